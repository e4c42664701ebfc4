package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/policy"
	"github.com/recordvault/recordvault/records"
)

// Court orders (164.512(e)(1)(i)) release only what they expressly cover. A clinic admin, as
// the records custodian, records the order; recordvault then finds every signed document of
// the client within its scope (categories, named documents, dates of service), decides each
// one with the policy (a psychotherapy note only when the order names them, a Part 2 record
// only under a subpart E order), creates one release per approved document for the order's
// recipient, and signs a manifest of exactly which document versions and fields were
// released with the clinic's Transit signing key, so that the set can be verified later.

const kindCourtOrder = "court_order"

// orderCitation is the rule a court order's scope rests on: only what it expressly authorizes.
const orderCitation = "45 CFR 164.512(e)(1)(i)"

// OrderInput is a court order as the clinic received it.
type OrderInput struct {
	Court         string                 `json:"court"`  // the issuing court and case
	Issued        string                 `json:"issued"` // YYYY-MM-DD
	Recipient     RecipientInput         `json:"recipient"`
	Categories    []recordvault.Category `json:"categories"`
	From          string                 `json:"from"` // the dates of service it covers, YYYY-MM-DD
	To            string                 `json:"to"`
	Documents     []string               `json:"documents,omitempty"` // when it names documents
	Fields        []string               `json:"fields,omitempty"`    // when it names fields
	Part2SubpartE bool                   `json:"part2_subpart_e,omitempty"`
	Purpose       string                 `json:"purpose"`
	ValidDays     int                    `json:"valid_days,omitempty"`
}

// OrderView is a recorded court order, what it released and the signed manifest of it.
type OrderView struct {
	ID         string     `json:"id"`
	Client     string     `json:"client"`
	Order      OrderInput `json:"order"`
	RecordedBy string     `json:"recorded_by"`
	Recorded   time.Time  `json:"recorded"`
	Releases   []string   `json:"releases"`
	// Refused are documents within the order's scope that the policy would not release.
	Refused []Refusal `json:"refused"`
	// Withheld are the client's documents outside the order's scope (categories, named
	// documents, dates of service; drafts), and documents it names that the client does not
	// have, each with the reason: the custodian answers the court for what was not sent.
	Withheld []Refusal `json:"withheld"`
	// Manifest is the signed manifest (a ReleaseManifest as JSON), byte for byte as signed;
	// Signature is the clinic's Transit signature of it.
	Manifest  string `json:"manifest"`
	Signature string `json:"signature"`
}

// Refusal is a document the policy would not release, and why.
type Refusal struct {
	Document string        `json:"document"`
	Reason   policy.Reason `json:"reason"`
}

// ReleaseManifest says exactly what an order released: which version of which document,
// which fields, to whom.
type ReleaseManifest struct {
	Version   int             `json:"v"`
	Order     string          `json:"order"`
	Clinic    string          `json:"clinic"`
	Client    string          `json:"client"`
	Recipient string          `json:"recipient"`
	Created   time.Time       `json:"created"`
	Entries   []ManifestEntry `json:"entries"`
}

// ManifestEntry is one released document version.
type ManifestEntry struct {
	Release  string               `json:"release"`
	Document string               `json:"document"`
	Category recordvault.Category `json:"category"`
	// Version is the document's last change; Fingerprint names the sealed form of the
	// released fields (records.Fingerprint), so a later change to any of them shows.
	Version     time.Time `json:"version"`
	Fingerprint string    `json:"fingerprint"`
	Fields      []string  `json:"fields"`
}

func (s *Service) checkOrderInput(in *OrderInput) error {
	if !validDate(in.Issued) || !validDate(in.From) || !validDate(in.To) || in.From > in.To {
		return recordvault.Errorf(recordvault.EINVALID, "issued, from and to: dates as YYYY-MM-DD, from not after to")
	}
	if len(in.Categories) == 0 {
		return recordvault.Errorf(recordvault.EINVALID, "categories: the order names the categories it covers")
	}
	for _, c := range in.Categories {
		if !c.Valid() {
			return recordvault.Errorf(recordvault.EINVALID, "categories: unknown record category")
		}
	}
	for _, d := range in.Documents {
		if !recordvault.ValidID(d) {
			return recordvault.Errorf(recordvault.EINVALID, "documents: record ids")
		}
	}
	if in.Recipient.Kind != policy.ToAttorney && in.Recipient.Kind != policy.ToAuthority {
		return recordvault.Errorf(recordvault.EINVALID, "recipient.kind: an order directs records to an attorney or an authority")
	}
	if !recordvault.ValidSubject(in.Recipient.ID) {
		return recordvault.Errorf(recordvault.EINVALID, "recipient.id: printable characters, no slash")
	}
	if err := checkDeliveryRoute(in.Recipient, false); err != nil {
		return err
	}
	if in.ValidDays == 0 {
		in.ValidDays = DefaultReleaseDays
	}
	if in.ValidDays < 1 || in.ValidDays > MaxReleaseDays || len(in.Documents) > 1000 || len(in.Fields) > 64 {
		return recordvault.Errorf(recordvault.EINVALID, "valid_days: 1 to %d; at most 1000 documents and 64 fields", MaxReleaseDays)
	}
	return evidenceText(in.Court, in.Purpose, in.Recipient.Name, in.Recipient.Address)
}

// CreateCourtOrder records a court order about client and makes its releases.
func (s *Service) CreateCourtOrder(ctx context.Context, c access.Caller, client string, in OrderInput) (*OrderView, error) {
	if err := s.checkOrderInput(&in); err != nil {
		return nil, err
	}
	if _, err := s.loadClientAs(ctx, c, "record_court_order", access.ManageClinic, client); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	v := &OrderView{ID: recordvault.NewID(), Client: client, Order: in, RecordedBy: c.ID, Recorded: now, Releases: []string{}, Refused: []Refusal{},
		Withheld: []Refusal{}}
	order := policy.Order{ID: v.ID, Recipient: in.Recipient.ID, Documents: in.Documents, From: in.From, To: in.To,
		Fields: in.Fields, Scope: in.Categories, Part2SubpartE: in.Part2SubpartE, RecordedBy: c.ID}
	manifest := ReleaseManifest{Version: 1, Order: v.ID, Clinic: c.Clinic, Client: client, Recipient: in.Recipient.ID, Created: now,
		Entries: []ManifestEntry{}}
	ids, err := s.records.List(ctx, c.Clinic, client, "", 0)
	if err != nil {
		return nil, err
	}
	for _, named := range in.Documents {
		if !slices.Contains(ids, named) {
			v.Withheld = append(v.Withheld, Refusal{Document: named, Reason: policy.Reason{Text: "the client has no such document", Citation: orderCitation}})
		}
	}
	withhold := func(doc, why string) {
		v.Withheld = append(v.Withheld, Refusal{Document: doc, Reason: policy.Reason{Text: why, Citation: orderCitation}})
	}
	var releases []*ReleaseView
	for _, id := range ids {
		doc, err := s.loadListed(ctx, c.Clinic, client, id)
		if err != nil {
			return nil, err
		}
		switch {
		case !slices.Contains(in.Categories, doc.Category):
			withhold(doc.ID, "outside the order's categories")
			continue
		case len(in.Documents) > 0 && !slices.Contains(in.Documents, doc.ID):
			withhold(doc.ID, "not among the documents the order names")
			continue
		case doc.Status != recordvault.StatusSigned:
			withhold(doc.ID, "a draft: only signed records are released")
			continue
		}
		ask := ReleaseInput{Document: doc.ID, Basis: policy.CourtOrder, Recipient: in.Recipient, Purpose: in.Purpose, ValidDays: in.ValidDays}
		req, facts, err := s.releaseFacts(ctx, c, client, doc, nil, ask)
		if err != nil {
			return nil, err
		}
		if !order.Covers(req.Document) {
			withhold(doc.ID, "outside the order's dates of service")
			continue
		}
		facts.Order = &order
		decision := policy.Decide(req, facts)
		approved := decision.Outcome == policy.Approve
		r := s.releaseView(c, client, doc, ask, req, decision, now)
		e := recordvault.AuditEvent{Time: now, Actor: c.ID, ActorIsClient: isClientLogin(c), Clinic: c.Clinic, Action: "release_decision",
			Client: client, Record: doc.ID, Participants: doc.Participants, Allowed: approved,
			Rule: fmt.Sprintf("court order %s: %s: %s (%s)", v.ID, decision.Outcome, decision.Rule.Text, decision.Rule.Citation)}
		if approved { // a refusal makes no release
			e.Release, e.Accounted = r.ID, decision.Accounted
		}
		if err := s.audit.Record(ctx, e); err != nil {
			return nil, fmt.Errorf("%w: %w", errAuditUnavailable, err)
		}
		if !approved {
			v.Refused = append(v.Refused, Refusal{Document: doc.ID, Reason: decision.Rule})
			continue
		}
		r.Order = v.ID
		releases = append(releases, r)
		v.Releases = append(v.Releases, r.ID)
		manifest.Entries = append(manifest.Entries, ManifestEntry{Release: r.ID, Document: doc.ID, Category: doc.Category,
			Version: doc.Updated, Fingerprint: records.Fingerprint(doc, decision.Fields), Fields: decision.Fields})
	}
	signed, err := json.Marshal(manifest)
	if err != nil {
		return nil, s.releasesAbandoned(ctx, c, releases, err)
	}
	if v.Signature, err = s.disclosures.SignManifest(ctx, c.Clinic, signed); err != nil {
		return nil, s.releasesAbandoned(ctx, c, releases, err)
	}
	v.Manifest = string(signed)
	// The releases are stored first and the order last: an order on file always has its
	// releases (a release stored without its order is a real one, downloadable).
	for i, r := range releases {
		if err := s.storeRelease(ctx, c.Clinic, r); err != nil {
			return nil, s.releasesAbandoned(ctx, c, releases[i:], err)
		}
	}
	if _, err := s.disclosures.Create(ctx, c.Clinic, client, v.ID, kindCourtOrder, "recorded", v); err != nil {
		return nil, err
	}
	return v, nil
}

// GetCourtOrder returns a recorded court order with its signed manifest.
func (s *Service) GetCourtOrder(ctx context.Context, c access.Caller, client, id string) (*OrderView, error) {
	if _, err := s.loadClientAs(ctx, c, "read_court_order", access.ReadClient, client); err != nil {
		return nil, err
	}
	var v OrderView
	if _, err := loadDisclosure(ctx, s, c.Clinic, client, id, kindCourtOrder, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// maxManifest bounds a manifest handed back for verification.
const maxManifest = 512 << 10

// VerifyManifest reports whether signature is the caller's clinic's signature of manifest:
// a changed manifest, or one signed elsewhere, is not valid.
func (s *Service) VerifyManifest(ctx context.Context, c access.Caller, manifest, signature string) (bool, error) {
	if err := s.decide(ctx, c, "verify_manifest", "", "", access.Decide(c, access.CreateClient, access.Target{Clinic: c.Clinic})); err != nil {
		return false, err
	}
	if len(manifest) == 0 || len(manifest) > maxManifest {
		return false, recordvault.Errorf(recordvault.EINVALID, "manifest: 1 byte to %d bytes", maxManifest)
	}
	return s.disclosures.VerifyManifest(ctx, c.Clinic, []byte(manifest), signature)
}
