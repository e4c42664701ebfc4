// Package apptest runs app.Service on fakes, for unit tests of its workflows that need no
// Docker: the service's own storage code over an in-memory S3 endpoint (storage/s3fake) and
// package vaulttest's stand-in for Vault Transit. What a fake cannot show (Transit's real
// checks, S3's real conditional writes, Object Lock) is for the integration tests.
package apptest

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/access"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/clinic"
	"github.com/recordvault/recordvault/disclosure"
	"github.com/recordvault/recordvault/notify"
	"github.com/recordvault/recordvault/otp"
	"github.com/recordvault/recordvault/records"
	"github.com/recordvault/recordvault/storage"
	"github.com/recordvault/recordvault/storage/s3fake"
	"github.com/recordvault/recordvault/tokens"
	"github.com/recordvault/recordvault/vault/vaulttest"
)

// Env is a clinic served by an app.Service on fakes.
type Env struct {
	Service *app.Service
	Clinic  string
	S3      *s3fake.Server
	Bucket  string
	Store   *storage.Store // the service's storage, for a test to damage what is stored
	Trail   *audit.Chain
	audit   *LockedBuffer
	Sent    *Outbox
}

// Clinicians are on the roster of every Env's clinic.
var Clinicians = []string{"dr-lee", "dr-out"}

// New returns a clinic practising under jurisdiction ("" for the deployment default, US), on
// a fresh bucket of a fresh fake endpoint, with Clinicians on its roster.
func New(t testing.TB, jurisdiction string) *Env {
	t.Helper()
	ctx := t.Context()
	e := &Env{Clinic: "clinic" + strings.ToLower(recordvault.NewID()[:8]), S3: s3fake.New(), Bucket: "apptest", audit: &LockedBuffer{}, Sent: &Outbox{}}
	t.Cleanup(e.S3.Close)
	store, err := storage.New(storage.Config{Endpoint: e.S3.Endpoint(), AccessKey: "apptest", SecretKey: "apptest-secret", Bucket: e.Bucket, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	e.Store = store
	keys := vaulttest.Keyring{}
	people := clinic.New(keys, clinic.NewBucket(store), nil)
	downloads, err := tokens.New(keys, 10*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Trail = audit.NewChain(audit.NewBucket(store), keys, slog.New(slog.DiscardHandler), nil)
	codes := otp.New(otp.NewBucket(store), func(ctx context.Context, clinicID string, input []byte) ([]byte, error) {
		return keys.HMAC(ctx, clinic.IndexKeyName(clinicID), input)
	}, nil)
	e.Service, err = app.New(app.Deps{Records: records.New(keys, records.NewBucket(store), nil), Clinic: people, Disclosures: disclosure.New(keys, keys, disclosure.NewBucket(store), nil),
		Tokens: downloads, Codes: codes, Notifier: e.Sent, Audit: audit.Tee{audit.NewJSONLines(e.audit), e.Trail}, Trail: e.Trail,
		Jurisdiction: jurisdiction})
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range Clinicians {
		if err := people.PutClinician(ctx, e.Clinic, recordvault.Clinician{Subject: sub, Name: "Clinician " + sub, Licensed: true}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// Caller is someone of the Env's clinic with roles.
func (e *Env) Caller(id string, roles ...recordvault.Role) access.Caller {
	return access.Caller{ID: id, Clinic: e.Clinic, Roles: roles}
}

// AuditLog is the plain copy of every audit event recorded so far, one JSON line each.
func (e *Env) AuditLog() string { return e.audit.String() }

// Outbox keeps the messages the service sent.
type Outbox struct {
	mu       sync.Mutex
	Messages []notify.Message
}

var _ notify.Notifier = (*Outbox)(nil)

// Send keeps m.
func (o *Outbox) Send(_ context.Context, m notify.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.Messages = append(o.Messages, m)
	return nil
}

// LockedBuffer is an audit sink's file or a server's log in memory: a buffer safe for the
// server's goroutines.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
