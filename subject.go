package recordvault

import "regexp"

// validSubject: an OIDC subject is an opaque string of at most 255 ASCII characters (OpenID
// Connect Core 1.0, 2). recordvault also refuses whitespace and "/" in it, so that a subject
// can stand in a URL path segment and a log line as it is.
var validSubject = regexp.MustCompile(`^[\x21-\x2e\x30-\x7e]{1,255}$`)

// ValidSubject reports whether s has the form of a caller's subject (a clinician, an admin, a
// client as the identity provider names them).
func ValidSubject(s string) bool { return validSubject.MatchString(s) }
