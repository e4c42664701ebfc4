package recordvault

import (
	"crypto/rand"
	"regexp"
	"slices"
	"strings"
)

// Category is a kind of record. Each (clinic, category) has its own Transit key, so records of
// different categories never share a key.
type Category string

// The record categories and the rules that set them apart (../shared/DOMAIN.md).
const (
	// PsychotherapyNote: the clinician's own notes, kept apart from the record (45 CFR
	// 164.501); outside the client's right of access (164.524(a)(1)(i)).
	PsychotherapyNote Category = "psychotherapy_note"
	// ProgressNote: the clinical record of a session; in the designated record set.
	ProgressNote Category = "progress_note"
	// Evaluation: psychological or psychiatric evaluations and test reports.
	Evaluation Category = "evaluation"
	// SUDRecord: substance-use-disorder treatment records of a 42 CFR Part 2 program.
	SUDRecord Category = "sud_record"
)

// Categories lists every category, in a fixed order.
var Categories = []Category{PsychotherapyNote, ProgressNote, Evaluation, SUDRecord}

// Valid reports whether c is one of Categories.
func (c Category) Valid() bool { return slices.Contains(Categories, c) }

// validID: ids are random, lowercase letters and digits only, so that no separator used in
// object keys or Transit key names ("/", "-") can ever occur inside one, and no id can carry
// anything a person typed.
var validID = regexp.MustCompile(`^[a-z0-9]{1,64}$`)

// ValidID reports whether id has the form of a recordvault id (clinic, client, record, blob).
func ValidID(id string) bool { return validID.MatchString(id) }

// ValidIDs reports whether every one of ids is ValidID.
func ValidIDs(ids ...string) bool {
	for _, id := range ids {
		if !ValidID(id) {
			return false
		}
	}
	return true
}

var validName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,127}$`)

// ValidName reports whether s has the form of a fixed schema name that stored state carries
// in the clear: a kind, status, category, field name or Transit key name.
func ValidName(s string) bool { return validName.MatchString(s) }

var validDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidDigest reports whether s has the form of a hex SHA-256 digest or HMAC (a blind index,
// a tag, a code's MAC).
func ValidDigest(s string) bool { return validDigest.MatchString(s) }

// NewID returns a fresh random id: 26 characters of lowercase base32, 130 bits.
func NewID() string { return strings.ToLower(rand.Text()) }

// DocumentKind is what a stored document is: a record, or something that belongs to one.
type DocumentKind string

const (
	// RecordDocument is a record of one of the Categories.
	RecordDocument DocumentKind = "record"
	// AddendumDocument is a later addition to a signed record, linked to it; the record itself
	// never changes once signed.
	AddendumDocument DocumentKind = "addendum"
	// AmendmentDocument is a client's request to amend a record (45 CFR 164.526), with its
	// decision and any statement of disagreement, linked to the record.
	AmendmentDocument DocumentKind = "amendment"
)

// Status is where a document is in its life.
type Status string

const (
	StatusDraft     Status = "draft"     // a record being written: its author may still change it
	StatusSigned    Status = "signed"    // a record or addendum signed by its author: immutable
	StatusRequested Status = "requested" // an amendment request awaiting a decision
	StatusAccepted  Status = "accepted"  // an amendment request accepted (164.526(c))
	StatusDenied    Status = "denied"    // an amendment request denied (164.526(d))
)
