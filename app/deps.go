package app

import (
	"context"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/clinic"
	"github.com/recordvault/recordvault/disclosure"
	"github.com/recordvault/recordvault/otp"
	"github.com/recordvault/recordvault/records"
	"github.com/recordvault/recordvault/tokens"
)

// What the workflows use of the services around them: exactly the calls made here, so that a
// workflow's unit test can stand a fake in for any of them, and a change to a service that
// the workflows do not use touches nothing here.

// Records is what the workflows use of the encrypted core (records.Service).
type Records interface {
	Create(ctx context.Context, rec records.NewRecord) (*records.Document, error)
	Load(ctx context.Context, clinic, client, id string) (*records.Document, error)
	List(ctx context.Context, clinic, client, after string, limit int) ([]string, error)
	Homes(ctx context.Context, clinic, client string) ([]string, error)
	Read(ctx context.Context, d *records.Document, fields []string) (map[string][]byte, error)
	Update(ctx context.Context, d *records.Document, fields map[string][]byte) error
	Sign(ctx context.Context, d *records.Document) error
	AddAttachment(ctx context.Context, d *records.Document, a records.NewAttachment) (records.Blob, error)
	OpenAttachment(ctx context.Context, d *records.Document, blob string, off, n int64) (*records.Attachment, error)
	AddChild(ctx context.Context, parent *records.Document, c records.NewChild) (*records.Document, error)
	RotateKey(ctx context.Context, clinic string, category recordvault.Category) (int, error)
	RewrapPage(ctx context.Context, clinic string, category recordvault.Category, after string, limit int) (int, string, error)
	SweepUnfinished(ctx context.Context, clinic string, olderThan time.Duration) (records.Sweep, error)
	RetireKeyVersions(ctx context.Context, clinic string, category recordvault.Category, minVersion int) error
	LoadChild(ctx context.Context, parent *records.Document, id string) (*records.Document, error)
	Children(ctx context.Context, parent *records.Document) ([]*records.Document, error)
	AppendAmendment(ctx context.Context, d *records.Document, step recordvault.Step) error
}

// People is what the workflows use of the clinic's clients, care teams and roster
// (clinic.Service).
type People interface {
	CreateClient(ctx context.Context, clinic string, id recordvault.Identity, team []string) (*clinic.Client, error)
	LoadClient(ctx context.Context, clinic, client string) (*clinic.Client, error)
	ListClients(ctx context.Context, clinic, after string, limit int) ([]string, error)
	FindClients(ctx context.Context, clinic, fullName, dateOfBirth string) ([]string, error)
	Identity(ctx context.Context, c *clinic.Client) (recordvault.Identity, error)
	SetCareTeam(ctx context.Context, c *clinic.Client, team []string) error
	LinkAccount(ctx context.Context, c *clinic.Client, subject string) error
	ClientOfAccount(ctx context.Context, clinic, subject string) (string, error)
	LinkRepresentative(ctx context.Context, c *clinic.Client, subject string, rep clinic.Representative) error
	UnlinkRepresentative(ctx context.Context, c *clinic.Client, subject string) error
	RepresentativeOf(ctx context.Context, c *clinic.Client, subject string) (clinic.Representative, bool, error)
	Represented(ctx context.Context, clinic, subject string) ([]*clinic.Client, error)
	Clinicians(ctx context.Context, clinic string) ([]recordvault.Clinician, error)
	PutClinician(ctx context.Context, clinic string, c recordvault.Clinician) error
	RemoveClinician(ctx context.Context, clinic, subject string) error
	State(ctx context.Context, clinic string) (*clinic.Staff, error)
	SetJurisdiction(ctx context.Context, clinic, jurisdiction string) error
	SetProfile(ctx context.Context, clinic, name, contact string) error
	// Witness and UseRevisionLog join clinic state to the audit trail (clinic.RevisionLog).
	Witness(clinic, client string, revision uint64)
	UseRevisionLog(log clinic.RevisionLog)
}

// Disclosures is what the workflows use of the release engine's documents and the download
// tokens' use records (disclosure.Service).
type Disclosures interface {
	Create(ctx context.Context, clinic, client, id, kind, status string, body any) (*disclosure.Doc, error)
	Load(ctx context.Context, clinic, client, id, kind string) (*disclosure.Doc, error)
	List(ctx context.Context, clinic, client, kind string) ([]*disclosure.Doc, error)
	Update(ctx context.Context, doc *disclosure.Doc, status string, body any) error
	SignManifest(ctx context.Context, clinic string, manifest []byte) (string, error)
	VerifyManifest(ctx context.Context, clinic string, manifest []byte, signature string) (bool, error)
	UseToken(ctx context.Context, clinic, jti string, session []byte) error
	TokenSession(ctx context.Context, clinic, jti string) ([]byte, error)
}

// Tokens issues and verifies download tokens (tokens.Service).
type Tokens interface {
	Issue(ctx context.Context, c tokens.Claims, notAfter time.Time) (string, time.Time, error)
	Verify(ctx context.Context, token string) (*tokens.Claims, error)
}

// Codes issues and checks one-time codes and download sessions' secrets (otp.Service).
type Codes interface {
	New(ctx context.Context, clinic, jti string) (string, error)
	Check(ctx context.Context, clinic, jti, code string) error
	NewSession(ctx context.Context, clinic, jti string, bound []byte) (secret, mac string, err error)
	CheckSession(ctx context.Context, clinic, jti, secret string, bound []byte, mac string) error
}

var (
	_ Records     = (*records.Service)(nil)
	_ People      = (*clinic.Service)(nil)
	_ Disclosures = (*disclosure.Service)(nil)
	_ Tokens      = (*tokens.Service)(nil)
	_ Codes       = (*otp.Service)(nil)
)
