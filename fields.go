package recordvault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// FieldKind is the type of a record field's value.
type FieldKind int

const (
	KindText           FieldKind = iota // free text, at most MaxTextField bytes
	KindDate                            // "2006-01-02"
	KindTime                            // "15:04", 24-hour
	KindCPT                             // a CPT code: four digits and a digit or letter
	KindDiagnosisCodes                  // a non-empty list of ICD-10-CM codes
	KindModality                        // one of Modalities
)

// FieldSpec is one field of a category's schema.
type FieldSpec struct {
	Name     string
	Kind     FieldKind
	Required bool
	Label    string // what a person reads: a copy's heading for the field
}

// MaxTextField bounds one text field: a note, not a document (documents are attachments).
const MaxTextField = 64 << 10

// FieldLabel is the label of category's field name, for people; the name itself when there is
// none.
func FieldLabel(category Category, name string) string {
	for _, spec := range Schemas[category] {
		if spec.Name == name && spec.Label != "" {
			return spec.Label
		}
	}
	return name
}

// Modalities are the session formats a progress note records.
var Modalities = []string{"individual", "couples", "family", "group"}

// Schemas are the fields of each category. A psychotherapy note holds the clinician's process
// notes only, kept apart from everything 164.501 excludes from it (medication, session times,
// modality, results, diagnosis, plan, progress): those belong in the progress note.
var Schemas = map[Category][]FieldSpec{
	ProgressNote: {
		{"date_of_service", KindDate, true, "Date of service"},
		{"start_time", KindTime, true, "Start time"},
		{"stop_time", KindTime, true, "Stop time"},
		{"modality", KindModality, true, "Session format"},
		{"cpt_code", KindCPT, true, "Procedure code (CPT)"},
		{"diagnosis_codes", KindDiagnosisCodes, true, "Diagnoses (ICD-10-CM)"},
		{"mental_status", KindText, false, "Mental status"},
		{"interventions", KindText, false, "Interventions"},
		{"progress", KindText, false, "Progress"},
		{"plan", KindText, false, "Plan"},
		{"risk_assessment", KindText, false, "Risk assessment"},
	},
	PsychotherapyNote: {
		{"process_notes", KindText, true, "Process notes"},
	},
	Evaluation: {
		{"date_of_service", KindDate, true, "Date of service"},
		{"summary", KindText, true, "Summary"},
		{"instruments", KindText, false, "Instruments used"},
	},
	SUDRecord: {
		{"date_of_service", KindDate, true, "Date of service"},
		{"note", KindText, true, "Note"},
		{"diagnosis_codes", KindDiagnosisCodes, false, "Diagnoses (ICD-10-CM)"},
	},
}

var (
	cptCode = regexp.MustCompile(`^[0-9]{4}[0-9A-Z]$`)
	icd10   = regexp.MustCompile(`^[A-TV-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$`)
)

// ValidateFields checks a record's fields, as JSON values, against its category's schema and
// returns each in canonical form (text as its bytes; dates, times and codes as their strings;
// diagnosis codes as a JSON array). Unknown fields, missing required ones and wrong types
// are all reported in one EINVALID error that names fields and never repeats a value.
func ValidateFields(c Category, fields map[string]json.RawMessage) (map[string][]byte, error) {
	schema, ok := Schemas[c]
	if !ok {
		return nil, Errorf(EINVALID, "unknown record category")
	}
	var problems []string
	out := make(map[string][]byte, len(fields))
	for name, raw := range fields {
		i := slices.IndexFunc(schema, func(s FieldSpec) bool { return s.Name == name })
		if i < 0 {
			problems = append(problems, fmt.Sprintf("unknown field %q", truncateName(name)))
			continue
		}
		v, err := canonical(schema[i].Kind, raw)
		if err != nil {
			problems = append(problems, fmt.Sprintf("field %q: %s", name, err))
			continue
		}
		out[name] = v
	}
	for _, s := range schema {
		if _, present := fields[s.Name]; s.Required && !present {
			problems = append(problems, fmt.Sprintf("missing required field %q", s.Name))
		}
	}
	if c == ProgressNote && len(problems) == 0 && string(out["stop_time"]) <= string(out["start_time"]) {
		problems = append(problems, `field "stop_time": must be after start_time`)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, Errorf(EINVALID, "invalid fields for %s: %s", c, strings.Join(problems, "; "))
	}
	return out, nil
}

// truncateName keeps an unknown field's name short and printable in an error.
func truncateName(name string) string {
	if len(name) > 40 || !utf8.ValidString(name) {
		return "(a long or malformed name)"
	}
	return name
}

// canonical checks one value and returns its canonical bytes. Its errors describe the
// expected form, never the value received.
func canonical(kind FieldKind, raw json.RawMessage) ([]byte, error) {
	if kind == KindDiagnosisCodes {
		var codes []string
		if err := json.Unmarshal(raw, &codes); err != nil || len(codes) == 0 || len(codes) > 32 {
			return nil, fmt.Errorf("want a list of 1 to 32 ICD-10-CM codes")
		}
		for _, code := range codes {
			if !icd10.MatchString(code) {
				return nil, fmt.Errorf("want ICD-10-CM codes such as F41.1")
			}
		}
		return json.Marshal(codes)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil || bytes.HasPrefix(bytes.TrimSpace(raw), []byte("null")) {
		return nil, fmt.Errorf("want a string")
	}
	switch kind {
	case KindText:
		if len(s) > MaxTextField {
			return nil, fmt.Errorf("longer than %d bytes", MaxTextField)
		}
	case KindDate:
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, fmt.Errorf("want a date as YYYY-MM-DD")
		}
	case KindTime:
		if _, err := time.Parse("15:04", s); err != nil || len(s) != 5 {
			return nil, fmt.Errorf("want a time as HH:MM")
		}
	case KindCPT:
		if !cptCode.MatchString(s) {
			return nil, fmt.Errorf("want a CPT code such as 90837")
		}
	case KindModality:
		if !slices.Contains(Modalities, s) {
			return nil, fmt.Errorf("want one of %s", strings.Join(Modalities, ", "))
		}
	}
	return []byte(s), nil
}

// FieldJSON is a stored field value (as ValidateFields canonicalised it) as JSON: diagnosis
// codes as their list, everything else as a string.
func FieldJSON(c Category, name string, value []byte) (json.RawMessage, error) {
	i := slices.IndexFunc(Schemas[c], func(s FieldSpec) bool { return s.Name == name })
	if i >= 0 && Schemas[c][i].Kind == KindDiagnosisCodes {
		return json.RawMessage(value), nil
	}
	return json.Marshal(string(value))
}
