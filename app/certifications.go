package app

import (
	"context"
	"errors"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/audit/ledger"
	"github.com/recordvault/recordvault/policy"
	"github.com/recordvault/recordvault/records"
)

// CertifiedCopy is what the clinic's signed trail records of the copy a verification code
// was printed on: which release, to whom, when, and what content; and whether the record
// still holds exactly that content.
type CertifiedCopy struct {
	Code      string         `json:"code"`
	Release   string         `json:"release"`
	Client    string         `json:"client"`
	Document  string         `json:"document"`
	Recipient RecipientInput `json:"recipient"`
	Basis     policy.Basis   `json:"basis"`
	Delivered time.Time      `json:"delivered"`
	// ContentHash names the sealed content released (records.Fingerprint); a copy whose
	// printed hash differs, or whose text differs from this content, is not what was released.
	ContentHash string `json:"content_hash"`
	// Unchanged reports that the record still holds exactly the released content; false once
	// the document is gone (an addendum or amendment does not change it).
	Unchanged bool `json:"unchanged"`
}

// VerifyCertification looks up the copy a verification code was printed on, for staff who
// may see that client (clinic admins, the care team) and for the client themselves, of a
// copy released to them (onlyOwnCopies). An
// unknown code and a copy the caller may not see answer the same recordvault.ErrNotFound;
// either way the lookup is audited.
func (s *Service) VerifyCertification(ctx context.Context, c access.Caller, typed string) (*CertifiedCopy, error) {
	code, ok := recordvault.ParseCertificationCode(typed)
	if !ok {
		return nil, recordvault.Errorf(recordvault.EINVALID, "code: a verification code is 12 letters and digits, such as 7K2M-9QXD-40FA")
	}
	var d ledger.Delivery
	who := recordvault.AuditEvent{Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic}
	if err := s.readLedger(ctx, who, func(l *ledger.Clinic) { d, ok = l.Certified[code] }); err != nil {
		return nil, err
	}
	if !ok {
		return nil, s.decide(ctx, c, "verify_certification", "", "", refused("no copy was delivered with this verification code"))
	}
	st, err := s.loadClientOrSelf(ctx, c, "verify_certification", d.Client)
	if err != nil {
		return nil, err
	}
	r, err := s.findRelease(ctx, c.Clinic, d.Client, d.Release)
	if err != nil {
		return nil, err
	}
	if st != nil && !st.ownCopy(r) {
		return nil, recordvault.ErrNotFound
	}
	out := &CertifiedCopy{Code: code, Release: r.ID, Client: d.Client, Document: d.Record, Recipient: r.Recipient, Basis: r.Basis,
		Delivered: d.At, ContentHash: d.ContentHash}
	doc, err := s.records.Load(ctx, c.Clinic, d.Client, d.Record)
	switch {
	case errors.Is(err, recordvault.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		out.Unchanged = records.Fingerprint(doc, r.Decision.Fields) == d.ContentHash
	}
	return out, nil
}
