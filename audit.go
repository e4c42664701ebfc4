package recordvault

import (
	"context"
	"time"
)

// AuditEvent is one thing that happened: a read, a write, a refusal, a disclosure. It names
// who, what and on which ids, and which rule decided; it never carries record content or
// anything else a person typed.
type AuditEvent struct {
	Time  time.Time `json:"time"`
	Actor string    `json:"actor"` // the caller's subject
	// ActorIsClient marks an actor who is a client acting through their own login. The chain
	// in the bucket records such an actor as "client": the bucket never links a login to a
	// client (the plain copy on the service's disk keeps the subject).
	ActorIsClient bool   `json:"actor_is_client,omitempty"`
	Clinic        string `json:"clinic"` // the caller's clinic
	Action        string `json:"action"`
	Client        string `json:"client,omitempty"`
	Record        string `json:"record,omitempty"`
	// Release names the release an event concerns: a decision on it, a token for it, a
	// download of it, its end.
	Release string `json:"release,omitempty"`
	// Authorization names the authorization a revocation ends.
	Authorization string `json:"authorization,omitempty"`
	// Amendment names the amendment request a step concerns (its request and its decision).
	Amendment string `json:"amendment,omitempty"`
	// AccessRequest names the access request a step concerns (its receipt and its answer).
	AccessRequest string `json:"access_request,omitempty"`
	// Revision is the revision a change of a client's profile (Client set) or of the clinic's
	// roster (no Client) made: a process refuses an older one, whoever made the change.
	Revision uint64 `json:"revision,omitempty"`
	// TokenID is the id (jti) of the download token a download used up; never the token.
	TokenID string `json:"token_id,omitempty"`
	// ContentHash is, on a download's redemption, the hash of the sealed content it released
	// (records.Fingerprint): with TokenID, what the copy's certification (CertificationCode)
	// is checked against.
	ContentHash string `json:"content_hash,omitempty"`
	// Accounted marks the approval of a release that a client's accounting of disclosures
	// lists (45 CFR 164.528), and each download of it: the accounting is built from these.
	Accounted bool   `json:"accounted,omitempty"`
	Allowed   bool   `json:"allowed"`
	Rule      string `json:"rule"` // the rule that decided, with its citation where it has one
	// Awaits names, on a release decision, what the release waits for: AwaitsResolution (a
	// person with authority decides) or AwaitsReview (a reviewable denial, which the client
	// may have reviewed); the trail's ledger lists these for staff until their resolution
	// or review.
	Awaits string `json:"awaits,omitempty"`
	// Participants are, on a release decision, the clients the released document concerns
	// (all its participants, pseudonymous ids as Client): each one's accounting of
	// disclosures finds the disclosure in the signed trail, with no index to trust.
	Participants []string `json:"participants,omitempty"`
}

// What a release decision leaves waiting (AuditEvent.Awaits).
const (
	AwaitsResolution = "resolution"
	AwaitsReview     = "review"
)

// Auditor records events. Record must return an error when the event is not durably
// recorded: callers fail the request then (fail closed), so nothing happens unrecorded.
type Auditor interface {
	Record(ctx context.Context, e AuditEvent) error
}
