package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/audit/ledger"
	"github.com/recordvault/recordvault/clinic"
	"github.com/recordvault/recordvault/disclosure"
	"github.com/recordvault/recordvault/notify"
	"github.com/recordvault/recordvault/otp"
	"github.com/recordvault/recordvault/policy"
	"github.com/recordvault/recordvault/records"
	"github.com/recordvault/recordvault/tokens"
)

// Downloads. An approved release becomes a download through a token (package tokens): short
// lived, naming the release, its recipient, the document version and the fields. Redeeming
// one needs the token, proof that the caller is the recipient, a release still live (approved,
// inside its window, every authorization it relies on still in force) and a token not used
// before: the redemption is recorded with a conditional create, so of racing redemptions
// exactly one gets the document. Every failure is the one tokens.ErrInvalid, and is audited
// with its real reason.

// TokenView is an issued download token.
type TokenView struct {
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
	Release string    `json:"release"`
}

// ReleasedCopy is what a recipient downloads: the released fields of one document, what the
// release was, and the notices that go with it.
type ReleasedCopy struct {
	Release string `json:"release"`
	Clinic  string `json:"clinic"`
	// ClinicName and ClinicContact are how the releasing clinic names itself and is reached
	// (its settings); "" until an admin sets them.
	ClinicName    string         `json:"clinic_name,omitempty"`
	ClinicContact string         `json:"clinic_contact,omitempty"`
	Recipient     RecipientInput `json:"recipient"`
	Basis         policy.Basis   `json:"basis"`
	Citation      string         `json:"citation"`
	Purpose       string         `json:"purpose"`
	Released      time.Time      `json:"released"`
	// Client is who the document is about, so that whoever holds the copy can tell.
	Client        CopyPerson                 `json:"client"`
	Document      string                     `json:"document"`
	Category      recordvault.Category       `json:"category"`
	DateOfService string                     `json:"date_of_service"`
	Author        CopyAuthor                 `json:"author"`
	Signed        time.Time                  `json:"signed"` // when its author signed it (it never changed since)
	Fields        map[string]json.RawMessage `json:"fields"`
	// Labels name the released fields for people, beside their keys in Fields.
	Labels map[string]string `json:"labels"`
	// DiagnosisTitles are the ICD-10-CM titles of the released diagnosis codes, where known.
	DiagnosisTitles map[string]string        `json:"diagnosis_titles,omitempty"`
	Addenda         []AddendumView           `json:"addenda"`
	Amendments      []*recordvault.Amendment `json:"amendments"`
	Notices         []string                 `json:"notices"`
	// Security are the copy's security labels (HL7 DS4P; FHIR meta.security codings), for
	// receiving systems that keep copies by them.
	Security []policy.Label `json:"security"`
	// Attachments are released with the whole document only: a release that names fields
	// (minimum necessary) leaves the attached documents out.
	Attachments []AttachmentView `json:"attachments"`
	// Withheld says what of the document the copy leaves out, never its content.
	Withheld Withheld `json:"withheld"`
	// Certification is the records custodian's certification of the copy, with the code
	// by which the clinic confirms it (VerifyCertification).
	Certification Certification `json:"certification"`
	doc           *records.Document
	release       *ReleaseView
	claims        *tokens.Claims // of the token redeemed, for the audit of the copy's delivery
}

// Certification certifies a released copy: the clinic, as custodian of the record, states
// that the copy is true and complete as far as its release allows; the code finds the
// delivery in the clinic's signed audit trail, and the content hash names the exact sealed
// content released (records.Fingerprint: the document's version and the released fields).
type Certification struct {
	Code        string `json:"code"`
	ContentHash string `json:"content_hash"`
	Statement   string `json:"statement"`
}

// certificationStatement is the custodian's statement on every copy.
const certificationStatement = "The clinic named above, as custodian of this record, certifies that this copy is a true and " +
	"complete reproduction of the portions of the record this release discloses, kept in the ordinary course of its practice. " +
	"Anyone holding the copy may ask the clinic to confirm it by its verification code."

// CopyPerson names the client a copy is about.
type CopyPerson struct {
	Name        string `json:"name"`
	DateOfBirth string `json:"date_of_birth"`
}

// CopyAuthor is who wrote and signed a copy's document: their login's subject, and their
// name on the clinic's roster (absent for someone no longer on it).
type CopyAuthor struct {
	Subject string `json:"subject"`
	Name    string `json:"name,omitempty"`
}

// Withheld is what a copy leaves out: the document's other fields, and the addenda and
// amendment requests that concern none of the fields released (policy.Accompanies), and the
// attached documents of a copy that names its fields.
type Withheld struct {
	Fields      []string `json:"fields"`
	Addenda     int      `json:"addenda"`
	Amendments  int      `json:"amendments"`
	Attachments int      `json:"attachments"`
	Citation    string   `json:"citation,omitempty"`
}

// findRelease reads one release of a document client takes part in, without an access
// decision: the caller has made one. It reads the release by its id under client's own home
// (where releases of the records client heads are kept: most of them), then under each of
// client's other homes, so its cost is in client's homes, not in their records or releases.
func (s *Service) findRelease(ctx context.Context, clinic, client, id string) (*ReleaseView, error) {
	r, found, err := s.releaseAt(ctx, clinic, client, client, id)
	if found || err != nil {
		return r, err
	}
	homes, err := s.records.Homes(ctx, clinic, client)
	if err != nil {
		return nil, err
	}
	for _, home := range homes {
		if r, found, err = s.releaseAt(ctx, clinic, client, home, id); found || err != nil {
			return r, err
		}
	}
	return nil, recordvault.ErrNotFound
}

// releaseAt reads release id under home, for client: found when it is stored there, r nil
// and ErrNotFound when it is another client's release of a document client has no part in.
func (s *Service) releaseAt(ctx context.Context, clinic, client, home, id string) (r *ReleaseView, found bool, err error) {
	var v ReleaseView
	_, err = loadDisclosure(ctx, s, clinic, home, id, kindRelease, &v)
	switch {
	case errors.Is(err, recordvault.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	case home == client || v.Client == client || s.takesPart(ctx, clinic, client, v.Document):
		return &v, true, nil
	}
	return nil, true, recordvault.ErrNotFound
}

var errReleaseClosed = recordvault.Errorf(recordvault.ECONFLICT, "the release is not live: only an approved release inside its window is downloaded")

// IssueToken issues a download token for an approved release inside its window: to staff who
// may see the client, to hand to the recipient, or to the client for their own release.
func (s *Service) IssueToken(ctx context.Context, c access.Caller, client, id string) (*TokenView, error) {
	st, err := s.loadClientOrSelf(ctx, c, "issue_token", client)
	if err != nil {
		return nil, err
	}
	r, err := s.findRelease(ctx, c.Clinic, client, id)
	if err != nil {
		return nil, err
	}
	if st != nil && !st.ownCopy(r) {
		return nil, recordvault.ErrNotFound
	}
	if r.Status != ReleaseApproved || !s.now().Before(r.ValidUntil) {
		return nil, errReleaseClosed
	}
	ended := false
	who := recordvault.AuditEvent{Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Client: client, Release: r.ID}
	if err := s.readLedger(ctx, who, func(l *ledger.Clinic) { ended = l.Ended[r.ID] }); err != nil {
		return nil, err
	}
	if ended {
		return nil, errReleaseClosed
	}
	doc, err := s.records.Load(ctx, c.Clinic, client, r.Document)
	if err != nil {
		return nil, err
	}
	claims := tokens.Claims{Clinic: c.Clinic, Client: doc.Participants[0], Document: doc.ID,
		ContentHash: records.Fingerprint(doc, r.Decision.Fields), Fields: r.Decision.Fields}
	claims.Subject, claims.Audience = r.ID, []string{r.Recipient.ID}
	token, exp, err := s.tokens.Issue(ctx, claims, r.ValidUntil)
	if err != nil {
		return nil, err
	}
	if err := s.audit.Record(ctx, recordvault.AuditEvent{Time: s.now().UTC(), Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Action: "issue_token",
		Client: client, Record: doc.ID, Release: r.ID, Allowed: true, Rule: "release " + r.ID + " approved and inside its window"}); err != nil {
		return nil, fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	return &TokenView{Token: token, Expires: exp, Release: r.ID}, nil
}

// Proof is how a caller proves to be a release's recipient: a client's own bearer JWT
// (Caller, nil when none was presented), or the one-time code sent to the registered address
// of a recipient without a login.
type Proof struct {
	Caller *access.Caller
	Code   string
}

// Redeem downloads what a token releases, once, in format (one of Formats), and opens the
// download session in which the same copy can be fetched again.
func (s *Service) Redeem(ctx context.Context, proof Proof, token, format string) (*ReleasedCopy, *Session, error) {
	if !slices.Contains(Formats, format) && format != FormatDocument {
		return nil, nil, recordvault.Errorf(recordvault.EINVALID, "format: one of json, pdf, zip, document")
	}
	claims, err := s.tokens.Verify(ctx, token)
	if err != nil {
		return nil, nil, s.refuseDownload(ctx, proof, nil, err.Error())
	}
	released, session, reason, err := s.redeem(ctx, proof, claims, format)
	if err != nil {
		return nil, nil, err
	}
	if reason != "" {
		return nil, nil, s.refuseDownload(ctx, proof, claims, reason)
	}
	return released, session, nil
}

// refuseDownload audits a refused redemption with its reason and answers the one error.
func (s *Service) refuseDownload(ctx context.Context, proof Proof, claims *tokens.Claims, reason string) error {
	e := recordvault.AuditEvent{Time: s.now().UTC(), Actor: "anonymous", Action: "download", Rule: reason}
	if proof.Caller != nil {
		e.Actor, e.ActorIsClient = proof.Caller.ID, isClientLogin(*proof.Caller)
	}
	if claims != nil {
		e.Clinic, e.Client, e.Record, e.Release, e.TokenID = claims.Clinic, claims.Client, claims.Document, claims.Subject, claims.ID
	}
	if err := s.audit.Record(ctx, e); err != nil {
		return fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	return tokens.ErrInvalid
}

// redeem checks everything a verified token needs to download, and downloads: the copy and
// its session, or the reason it is refused.
func (s *Service) redeem(ctx context.Context, proof Proof, claims *tokens.Claims, format string) (*ReleasedCopy, *Session, string, error) {
	lv, reason, err := s.liveRelease(ctx, claims, false)
	if reason != "" || err != nil {
		return nil, nil, reason, err
	}
	r, doc := lv.release, lv.doc
	if reason, err := s.isRecipient(ctx, proof, claims, r); reason != "" || err != nil {
		return nil, nil, reason, err
	}
	if format == FormatDocument {
		format = FormatPDF
		if whole(doc, r.Decision.Fields) && len(doc.Attachments) > 0 {
			format = FormatZIP
		}
	}
	session, use, err := s.openSession(ctx, proof, claims, format)
	if err != nil {
		return nil, nil, "", err
	}
	if err := s.disclosures.UseToken(ctx, claims.Clinic, claims.ID, use); errors.Is(err, disclosure.ErrTokenUsed) {
		return nil, nil, "the token was used before", nil
	} else if err != nil {
		return nil, nil, "", err
	}
	released, err := s.releasedCopy(ctx, doc, r, claims)
	if err != nil {
		return nil, nil, "", err
	}
	if err := s.recordDownload(ctx, proof, claims, r, "download"); err != nil {
		return nil, nil, "", err
	}
	return released, session, "", nil
}

// recordDownload audits action (a redemption, a fetch within its session, a delivery in full)
// of release r by the recipient proof names. The redemption is the disclosure: it alone
// counts in the accounting.
func (s *Service) recordDownload(ctx context.Context, proof Proof, claims *tokens.Claims, r *ReleaseView, action string) error {
	actor, byClient := "the recipient of release "+r.ID, false // a recipient id is the clinic's label: kept out of the trail
	if proof.Caller != nil {
		actor, byClient = proof.Caller.ID, isClientLogin(*proof.Caller)
	}
	if err := s.audit.Record(ctx, recordvault.AuditEvent{Time: s.now().UTC(), Actor: actor, ActorIsClient: byClient, Clinic: claims.Clinic, Action: action,
		Client: r.Client, Record: claims.Document, Release: r.ID, Accounted: r.Decision.Accounted && action == "download", TokenID: claims.ID,
		ContentHash: claims.ContentHash, Allowed: true, Rule: fmt.Sprintf("release %s: %s (%s)", r.ID, r.Basis, r.Decision.Rule.Citation)}); err != nil {
		return fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	return nil
}

// live is a release a token can be redeemed for now: the release, its document, and what the
// audit trail records of the token's one-time codes.
type live struct {
	release *ReleaseView
	doc     *records.Document
	codes   ledger.CodeUse
}

// liveRelease reads the release a verified token names and reports why it cannot be
// downloaded now, or "": it must be approved, inside its window, for the token's recipient,
// document and fields, the document unchanged since, and every authorization it relies on
// still in force; and the token unused, but when redeemed is set (a fetch within the session
// its redemption opened).
func (s *Service) liveRelease(ctx context.Context, claims *tokens.Claims, redeemed bool) (*live, string, error) {
	var r ReleaseView
	if _, err := loadDisclosure(ctx, s, claims.Clinic, claims.Client, claims.Subject, kindRelease, &r); errors.Is(err, recordvault.ErrNotFound) {
		return nil, "no such release", nil
	} else if err != nil {
		return nil, "", err
	}
	switch {
	case r.Status != ReleaseApproved:
		return nil, "the release is " + r.Status, nil
	case !s.now().Before(r.ValidUntil):
		return nil, "the release's window has closed", nil
	case r.Recipient.ID != claims.Audience[0]:
		return nil, "the token names another recipient", nil
	case r.Document != claims.Document || !slices.Equal(r.Decision.Fields, claims.Fields):
		return nil, "the token names another document or scope", nil
	}
	// The release's record and the token's used-up marker can be rolled back or deleted by a
	// bucket writer; the signed trail's record of the release's end and of the token's use
	// cannot.
	var ended, used bool
	var codes ledger.CodeUse
	revoked := map[string]bool{}
	who := recordvault.AuditEvent{Actor: "the recipient of release " + r.ID, Clinic: claims.Clinic, Client: claims.Client, Release: r.ID}
	if err := s.readLedger(ctx, who, func(l *ledger.Clinic) {
		ended, used, codes = l.Ended[r.ID], !l.Used[claims.ID].IsZero(), l.Codes[claims.ID]
		for _, id := range r.Decision.Authorizations {
			revoked[id] = l.Revoked[id]
		}
	}); err != nil {
		return nil, "", err
	}
	switch {
	case ended:
		return nil, "the audit trail records the end of the release", nil
	case used && !redeemed:
		return nil, "the token was used before", nil
	case codes.Failures >= maxCodeFailures:
		return nil, "too many refused one-time codes for this token", nil
	}
	doc, err := s.records.Load(ctx, claims.Clinic, claims.Client, r.Document)
	if errors.Is(err, recordvault.ErrNotFound) {
		return nil, "the document is gone", nil
	} else if err != nil {
		return nil, "", err
	}
	if records.Fingerprint(doc, r.Decision.Fields) != claims.ContentHash {
		return nil, "the document changed since the token was issued", nil
	}
	if reason, err := s.authorizationsInForce(ctx, claims.Clinic, doc.Participants, r.Decision.Authorizations, revoked); reason != "" || err != nil {
		return nil, reason, err
	}
	return &live{release: &r, doc: doc, codes: codes}, "", nil
}

// RequestCode sends a one-time code to the registered address of the recipient a token names,
// when the recipient has no login and the release is live. A refusal is the one
// tokens.ErrInvalid, audited with its reason.
func (s *Service) RequestCode(ctx context.Context, token string) error {
	claims, err := s.tokens.Verify(ctx, token)
	if err != nil {
		return s.refuseDownload(ctx, Proof{}, nil, err.Error())
	}
	lv, reason, err := s.liveRelease(ctx, claims, false)
	if err != nil {
		return err
	}
	if reason == "" && (lv.release.Recipient.Kind == policy.ToClient || lv.release.Recipient.Email == "") {
		reason = "the recipient proves who they are with their login, or has no registered address"
	}
	if reason == "" && lv.codes.Sends >= otp.MaxSends { // the codes' own state counts sends too, but a bucket writer can put it back
		reason = reasonCodesUsedUp
	}
	var code string
	if reason == "" {
		code, err = s.codes.New(ctx, claims.Clinic, claims.ID)
		if errors.Is(err, otp.ErrRefused) {
			reason = reasonCodesUsedUp
		} else if err != nil {
			return err
		}
	}
	if reason != "" {
		return s.refuseDownload(ctx, Proof{}, claims, reason)
	}
	r := lv.release
	err = s.notifier.Send(ctx, notify.Message{To: r.Recipient.Email, Subject: "Your recordvault download code",
		Body: fmt.Sprintf("Your one-time code for release %s of clinic %s is %s.\nIt works once, for %d minutes.\n"+
			"If you did not ask for it, ignore this message.", r.ID, claims.Clinic, code, int(otp.TTL.Minutes()))})
	if err != nil {
		return fmt.Errorf("app: send code: %w", err)
	}
	if err := s.audit.Record(ctx, recordvault.AuditEvent{Time: s.now().UTC(), Actor: "the recipient of release " + r.ID, Clinic: claims.Clinic,
		Action: "send_code", Client: r.Client, Record: r.Document, Release: r.ID, TokenID: claims.ID, Allowed: true, Rule: "release " + r.ID}); err != nil {
		return fmt.Errorf("%w: %w", errAuditUnavailable, err)
	}
	return nil
}

// authorizationsInForce reports why the release's authorizations no longer allow it, or "";
// revoked are those the audit trail records as revoked.
func (s *Service) authorizationsInForce(ctx context.Context, clinic string, participants, ids []string, revoked map[string]bool) (string, error) {
	if len(ids) == 0 {
		return "", nil
	}
	active := map[string]bool{}
	for _, p := range participants {
		_, views, err := s.authorizations(ctx, clinic, p, revoked)
		if err != nil {
			return "", err
		}
		for _, v := range views {
			active[v.ID] = !v.Revoked
		}
	}
	for _, id := range ids {
		if !active[id] {
			return "an authorization the release relies on was revoked", nil
		}
	}
	return "", nil
}

// reasonCodesUsedUp is the audited reason for a code asked for once too often.
const reasonCodesUsedUp = "codes for this token are used up"

// maxCodeFailures bounds the refused codes of one token, counted from the audit trail: the
// codes' own state in the bucket counts tries per code, but a bucket writer can put it back.
const maxCodeFailures = otp.MaxSends * otp.MaxAttempts

// isRecipient reports why the caller has not proved to be the release's recipient, or "". A
// client proves it with their own login, linked to them; a personal representative named
// by their login, with that login while they still act for the client; a clinician on the roster named as
// the provider of a treatment release, with their own login; every other recipient with the
// one-time code sent to their registered address, never with a staff login (a clinic admin's
// login opens no release at all: admins never read content).
func (s *Service) isRecipient(ctx context.Context, proof Proof, claims *tokens.Claims, r *ReleaseView) (string, error) {
	c, clinic := proof.Caller, claims.Clinic
	staff := c != nil && c.Clinic == clinic && c.ID == r.Recipient.ID &&
		(slices.Contains(c.Roles, recordvault.RoleClinician) || slices.Contains(c.Roles, recordvault.RoleClinicAdmin))
	if r.Recipient.Kind != policy.ToClient && staff {
		return s.isStaffRecipient(ctx, *c, r)
	}
	if r.Recipient.Kind == policy.ToRepresentative && c != nil && c.Clinic == clinic && c.ID == r.Recipient.ID && onlyOwnCopies(*c) {
		return s.isRepresentativeRecipient(ctx, *c, r)
	}
	if r.Recipient.Kind != policy.ToClient {
		if proof.Code == "" {
			return "no one-time code", nil
		}
		if err := s.codes.Check(ctx, clinic, claims.ID, proof.Code); errors.Is(err, otp.ErrRefused) {
			return ledger.ReasonWrongCode, nil
		} else if err != nil {
			return "", err
		}
		return "", nil
	}
	if c == nil {
		return "no proof of being the recipient", nil
	}
	if c.Clinic != clinic || !slices.Contains(c.Roles, recordvault.RoleClient) {
		return "the caller is not the client the release is for", nil
	}
	own, err := s.clinic.ClientOfAccount(ctx, clinic, c.ID)
	if err != nil {
		return "", err
	}
	if own != r.Recipient.ID {
		return "the caller is not the client the release is for", nil
	}
	return "", nil
}

// isRepresentativeRecipient reports why c, the login a release to a personal representative
// names, may not redeem it with that login, or "": it must still stand as the client's
// representative, and the policy must still let them act for the client today (a child
// who has since objected, or an unlinked parent, stops it).
func (s *Service) isRepresentativeRecipient(ctx context.Context, c access.Caller, r *ReleaseView) (string, error) {
	st, err := s.standingOf(ctx, c, r.Recipient.For)
	if err != nil {
		return "", err
	}
	if d := st.decision(); !d.Allowed || st.rep == nil {
		return "the login no longer acts for the client: " + d.Rule, nil
	}
	return "", nil
}

// isStaffRecipient reports why c, a staff login named as r's recipient, may not redeem it, or
// "": only a clinician on the roster, not a clinic admin, receiving a treatment release as a
// provider, and not the one who asked for it.
func (s *Service) isStaffRecipient(ctx context.Context, c access.Caller, r *ReleaseView) (string, error) {
	if r.Basis != policy.Treatment || r.Recipient.Kind != policy.ToProvider || slices.Contains(c.Roles, recordvault.RoleClinicAdmin) ||
		c.ID == r.RequestedBy {
		return "a staff login redeems only a treatment release to a provider, and never a clinic admin's or the requester's", nil
	}
	st, err := s.clinicState(ctx, c)
	if err != nil || !onRoster(st, c.ID) {
		return "the staff login is not on the clinic's roster", err
	}
	return "", nil
}

// releasedCopy decrypts the released fields of doc, with its addenda and amendment requests,
// which travel with it.
// copyPeople finds whom a copy of doc, released by r, names: the client (their identity
// decrypted, one Vault call), the document's author (by the roster), and the clinic (its
// name and contact, with the roster in the clinic's state).
func (s *Service) copyPeople(ctx context.Context, doc *records.Document, r *ReleaseView) (CopyPerson, CopyAuthor, *clinic.Staff, error) {
	author := CopyAuthor{Subject: doc.Author}
	cl, err := s.clinic.LoadClient(ctx, doc.Clinic, r.Client)
	if err != nil {
		return CopyPerson{}, author, nil, err
	}
	id, err := s.clinic.Identity(ctx, cl)
	if err != nil {
		return CopyPerson{}, author, nil, err
	}
	st, err := s.clinic.State(ctx, doc.Clinic)
	if err != nil {
		return CopyPerson{}, author, nil, err
	}
	if i := slices.IndexFunc(st.Clinicians, func(c recordvault.Clinician) bool { return c.Subject == doc.Author }); i >= 0 {
		author.Name = st.Clinicians[i].Name
	}
	return CopyPerson{Name: id.FullName, DateOfBirth: id.DateOfBirth}, author, st, nil
}

func (s *Service) releasedCopy(ctx context.Context, doc *records.Document, r *ReleaseView, claims *tokens.Claims) (*ReleasedCopy, error) {
	fields, err := s.records.Read(ctx, doc, r.Decision.Fields)
	if err != nil {
		return nil, err
	}
	out := &ReleasedCopy{Release: r.ID, Clinic: doc.Clinic, Recipient: r.Recipient, Basis: r.Basis, Citation: r.Decision.Rule.Citation,
		Purpose: r.Purpose, Released: r.Created, Document: doc.ID, Category: doc.Category, DateOfService: r.DateOfService,
		Fields: make(map[string]json.RawMessage, len(fields)), Addenda: []AddendumView{}, Amendments: []*recordvault.Amendment{},
		Notices: policy.Notices(r.Decision), Attachments: []AttachmentView{}, doc: doc, release: r, claims: claims,
		Certification: Certification{Code: recordvault.CertificationCode(claims.ID), ContentHash: claims.ContentHash, Statement: certificationStatement}}
	out.Security = policy.Labels(doc.Category, r.Decision.Part2Notice)
	out.Labels = make(map[string]string, len(fields))
	for name, value := range fields {
		if out.Fields[name], err = recordvault.FieldJSON(doc.Category, name, value); err != nil {
			return nil, err
		}
		out.Labels[name] = recordvault.FieldLabel(doc.Category, name)
		var codes []string
		if json.Unmarshal(out.Fields[name], &codes) == nil {
			for _, code := range codes {
				if title, ok := recordvault.DiagnosisTitle(code); ok {
					if out.DiagnosisTitles == nil {
						out.DiagnosisTitles = map[string]string{}
					}
					out.DiagnosisTitles[code] = title
				}
			}
		}
	}
	var st *clinic.Staff
	if out.Client, out.Author, st, err = s.copyPeople(ctx, doc, r); err != nil {
		return nil, err
	}
	out.ClinicName, out.ClinicContact = st.Name, st.Contact
	out.Signed = doc.Updated
	addenda, amendments, err := s.children(ctx, doc)
	if err != nil {
		return nil, err
	}
	released := r.Decision.Fields
	for _, a := range addenda {
		if policy.Accompanies(a.Concerns, released) {
			out.Addenda = append(out.Addenda, a)
		}
	}
	for _, a := range amendments {
		if policy.Accompanies(a.Request.Concerns, released) {
			out.Amendments = append(out.Amendments, a)
		}
	}
	all := summary(doc).Attachments
	if whole(doc, released) {
		out.Attachments = all
	}
	out.Withheld = Withheld{Fields: []string{}, Addenda: len(addenda) - len(out.Addenda), Amendments: len(amendments) - len(out.Amendments),
		Attachments: len(all) - len(out.Attachments)}
	for _, spec := range recordvault.Schemas[doc.Category] {
		if doc.HasField(spec.Name) && !slices.Contains(released, spec.Name) {
			out.Withheld.Fields = append(out.Withheld.Fields, spec.Name)
		}
	}
	if len(out.Withheld.Fields) > 0 || out.Withheld.Addenda > 0 || out.Withheld.Amendments > 0 || out.Withheld.Attachments > 0 {
		out.Withheld.Citation = policy.AccompaniesCitation
	}
	return out, nil
}

// whole reports whether fields are every field the document has.
func whole(doc *records.Document, fields []string) bool {
	for _, spec := range recordvault.Schemas[doc.Category] {
		if doc.HasField(spec.Name) && !slices.Contains(fields, spec.Name) {
			return false
		}
	}
	return true
}

// OpenReleased opens, for streaming, an attachment a redeemed copy released: decrypted chunk
// by chunk, in constant memory whatever its size.
func (s *Service) OpenReleased(ctx context.Context, c *ReleasedCopy, blob string) (*records.Attachment, error) {
	if !slices.ContainsFunc(c.Attachments, func(a AttachmentView) bool { return a.ID == blob }) {
		return nil, recordvault.ErrNotFound
	}
	return s.records.OpenAttachment(ctx, c.doc, blob, 0, -1)
}
