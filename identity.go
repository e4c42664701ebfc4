package recordvault

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Identity is who a client is: PHI in every part, so each field is sealed on its own and
// none is ever logged, audited or put in an object key. A client is found by exact full name
// and date of birth through a blind index (IndexInput), never by a plain hash.
type Identity struct {
	FullName    string `json:"full_name"`
	DateOfBirth string `json:"date_of_birth"` // YYYY-MM-DD
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	Address     string `json:"address,omitempty"`
}

// maxIdentityField bounds each identity field.
const maxIdentityField = 500

// Validate checks an identity and reports every problem in one EINVALID error that names
// fields and never repeats a value.
func (id Identity) Validate(now time.Time) error {
	var problems []string
	for name, v := range id.Fields() {
		if len(v) > maxIdentityField || !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl) {
			problems = append(problems, fmt.Sprintf("field %q: at most %d characters of printable text", name, maxIdentityField))
		}
	}
	if strings.TrimSpace(id.FullName) == "" {
		problems = append(problems, `missing required field "full_name"`)
	}
	if dob, err := time.Parse(time.DateOnly, id.DateOfBirth); err != nil || dob.After(now) || dob.Year() < 1900 {
		problems = append(problems, `field "date_of_birth": want a past date as YYYY-MM-DD`)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return Errorf(EINVALID, "invalid client identity: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Fields returns the identity's non-empty fields by name, as they are sealed.
func (id Identity) Fields() map[string]string {
	out := map[string]string{}
	for name, v := range map[string]string{"full_name": id.FullName, "date_of_birth": id.DateOfBirth,
		"email": id.Email, "phone": id.Phone, "address": id.Address} {
		if v != "" {
			out[name] = v
		}
	}
	return out
}

// IdentityFromFields is the inverse of Fields.
func IdentityFromFields(f map[string]string) Identity {
	return Identity{FullName: f["full_name"], DateOfBirth: f["date_of_birth"], Email: f["email"], Phone: f["phone"], Address: f["address"]}
}

// AccountIndexInput is what the blind index computes for a client's login subject, apart
// from every name and date (IndexInput's form cannot begin this way).
func AccountIndexInput(subject string) []byte {
	return []byte("recordvault/client-account/v1\x00" + subject)
}

// RepresentativeIndexInput is what the blind index of a personal representative's login
// subject is computed over: another domain than a client's own account, so that one login
// can be both (a parent who is also a client) without the two indexes meeting.
func RepresentativeIndexInput(subject string) []byte {
	return []byte("recordvault/client-representative/v1\x00" + subject)
}

// IndexInput is what the blind index is computed over: the full name in Unicode NFKC, case
// folded, with runs of spaces collapsed, and the date of birth. "José  Álvarez" (composed or
// not, any case, any spacing) and the same date find the same client; a different spelling
// does not: the index finds exact matches only.
func IndexInput(fullName, dateOfBirth string) []byte {
	name := strings.Join(strings.Fields(strings.ToLower(norm.NFKC.String(fullName))), " ")
	return fmt.Appendf(nil, "recordvault/client-index/v1\x00%s\x00%s", name, dateOfBirth)
}
