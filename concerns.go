package recordvault

import "slices"

// maxConcerns bounds the fields one linked document names.
const maxConcerns = 64

// CheckConcerns checks the fields a linked document (an addendum, or an amendment request with
// its decision, disagreement and rebuttal) says it concerns: distinct field names of the
// category it is linked to. None means the whole document. A copy that releases some fields
// carries the linked documents whose concern overlaps them (policy.Accompanies).
func CheckConcerns(category Category, names []string) error {
	if len(names) > maxConcerns {
		return Errorf(EINVALID, "concerns: at most %d fields", maxConcerns)
	}
	for i, name := range names {
		if !slices.ContainsFunc(Schemas[category], func(f FieldSpec) bool { return f.Name == name }) || slices.Contains(names[:i], name) {
			return Errorf(EINVALID, "concerns: distinct fields of the document's category (none for the whole document)")
		}
	}
	return nil
}
