//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/app/apptest"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/auth"
	"github.com/recordvault/recordvault/clinic"
	"github.com/recordvault/recordvault/disclosure"
	"github.com/recordvault/recordvault/handlers"
	"github.com/recordvault/recordvault/internal/devissuer"
	"github.com/recordvault/recordvault/notify"
	"github.com/recordvault/recordvault/otp"
	"github.com/recordvault/recordvault/records"
	"github.com/recordvault/recordvault/rvtest"
	"github.com/recordvault/recordvault/storage"
	"github.com/recordvault/recordvault/tokens"
	"github.com/recordvault/recordvault/vault"
	"golang.org/x/time/rate"
)

// apiEnv is the whole service over HTTP, on the shared Vault and a fresh bucket of the shared
// MinIO, with a development issuer for its callers and the audit trail kept in memory.
type apiEnv struct {
	url, clinic, bucket string
	raw                 *minio.Client
	svc                 *records.Service
	issuer              *devissuer.Issuer
	auditLog            *apptest.LockedBuffer
	serverLog           *apptest.LockedBuffer // everything the server logs, at debug level
	mailbox             *mailbox              // what the service sent recipients
	deps                app.Deps              // what the service runs on
	store               *storage.Store
	vault               *vault.Client
	api                 *app.Service   // the service behind url
	verifier            *auth.Verifier // the bearer-token check behind url
	tokensAhead         atomic.Int64   // how far the download tokens' clock runs ahead, in nanoseconds
	stateAhead          atomic.Int64   // how far the clinic state's clock runs ahead, in nanoseconds
	calls               *counted       // the Vault and S3 requests, counted (newCountedAPIEnv), or nil
}

// anotherProcess is a second recordvault process over the same bucket and Vault: its own
// audit chain writer and reader and its own clinic state service (nothing remembered from
// this one's), its clock now.
func (e *apiEnv) anotherProcess(t testing.TB, now func() time.Time) *app.Service {
	t.Helper()
	deps := e.deps
	chain := audit.NewChain(audit.NewBucket(e.store), e.vault, slog.New(slog.NewTextHandler(e.serverLog, nil)), now)
	deps.Audit, deps.Trail, deps.Now = audit.Tee{audit.NewJSONLines(e.auditLog), chain}, chain, now
	deps.Clinic = clinic.New(e.vault, clinic.NewBucket(e.store), now)
	svc, err := app.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// expireKeptState moves the clinic state's clock on past clinic.KeptFor: the profiles and
// rosters the service checked are read from the bucket again.
func (e *apiEnv) expireKeptState() { e.stateAhead.Add(int64(clinic.KeptFor)) }

// mailbox is the development mailbox of `make dev` (notify.Mailbox, a file), which the tests
// read as a developer would.
type mailbox struct {
	notify.Mailbox
}

// lastCode returns the one-time code in the last message to address in the mailbox file.
func (m *mailbox) lastCode(t testing.TB, address string) string {
	t.Helper()
	b, err := os.ReadFile(m.Path)
	if err != nil {
		t.Fatalf("the development mailbox: %v", err)
	}
	messages := strings.Split(string(b), "\n--- ")
	for i := len(messages) - 1; i >= 0; i-- {
		if strings.Contains(messages[i], "\nTo: "+address+"\n") {
			if code := oneTimeCode.FindString(messages[i]); code != "" {
				return code
			}
		}
	}
	t.Fatalf("no code was sent to %s", address)
	return ""
}

var oneTimeCode = regexp.MustCompile(`\b[0-9]{8}\b`)

// newAPIEnv starts the service for one clinic whose users are users (subject → roles); the
// subjects of users with the clinician role, and those of roster, are put on the clinic's
// roster of clinicians.
func newAPIEnv(t testing.TB, users map[string][]recordvault.Role, roster ...string) *apiEnv {
	t.Helper()
	return newAPIEnvIn(t, "US", users, roster...)
}

// newAPIEnvIn is newAPIEnv for a clinic practising under jurisdiction.
func newAPIEnvIn(t testing.TB, jurisdiction string, users map[string][]recordvault.Role, roster ...string) *apiEnv {
	t.Helper()
	return newAPIEnvOn(t, shared.vault, shared.minio, jurisdiction, users, roster...)
}

// newAPIEnvOn is newAPIEnvIn on the servers given, for tests that stop or pause them.
func newAPIEnvOn(t testing.TB, v *rvtest.Vault, m rvtest.S3, jurisdiction string, users map[string][]recordvault.Role, roster ...string) *apiEnv {
	t.Helper()
	return newAPIEnvWith(t, v, m, nil, jurisdiction, users, roster...)
}

// newCountedAPIEnv is newAPIEnv whose Vault and S3 requests are counted (e.calls), each
// through a transport that fails stalls as the service's own does, and whose ledger saves its
// checkpoints as in production (every 1,000 blocks, not every 4 as the API tests'): for
// measuring what a request costs.
func newCountedAPIEnv(t testing.TB, users map[string][]recordvault.Role) *apiEnv {
	t.Helper()
	return newCountedAPIEnvOn(t, shared.vault, shared.minio, users)
}

// newCountedAPIEnvOn is newCountedAPIEnv on the servers given (storageBoundServers).
func newCountedAPIEnvOn(t testing.TB, v *rvtest.Vault, m *rvtest.MinIO, users map[string][]recordvault.Role) *apiEnv {
	t.Helper()
	e := newAPIEnvWith(t, v, m, &counted{vault: newCountingTransport(), s3: newCountingTransport()}, "US", users)
	e.deps.CheckpointEvery = 0
	api, err := app.New(e.deps)
	if err != nil {
		t.Fatal(err)
	}
	e.api = api
	e.url = e.serve(t)
	return e
}

// counted are the transports that count an env's Vault and S3 requests.
type counted struct{ vault, s3 *countingTransport }

func newAPIEnvWith(t testing.TB, v *rvtest.Vault, m rvtest.S3, count *counted, jurisdiction string, users map[string][]recordvault.Role, roster ...string) *apiEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var vaultTransport, s3Transport []http.RoundTripper
	if count != nil {
		vaultTransport, s3Transport = []http.RoundTripper{count.vault}, []http.RoundTripper{count.s3}
	}
	store, bucket := newStore(t, m, s3Transport...)
	vc := vaultClient(t, v, vaultTransport...)
	e := &apiEnv{clinic: newID(), bucket: bucket, svc: records.New(vc, records.NewBucket(store), nil), auditLog: &apptest.LockedBuffer{}, serverLog: &apptest.LockedBuffer{},
		store: store, vault: vc, calls: count}
	people := clinic.New(vc, clinic.NewBucket(store), func() time.Time { return time.Now().Add(time.Duration(e.stateAhead.Load())) })
	disclosures := disclosure.New(vc, vc, disclosure.NewBucket(store), nil)
	downloads, err := tokens.New(vc, 10*time.Minute, func() time.Time { return time.Now().Add(time.Duration(e.tokensAhead.Load())) })
	if err != nil {
		t.Fatal(err)
	}
	trail := audit.NewChain(audit.NewBucket(store), vc, slog.New(slog.NewTextHandler(e.serverLog, nil)), nil)
	if err := vc.ProvisionClinic(ctx, e.clinic); err != nil {
		t.Fatal(err)
	}
	e.mailbox = &mailbox{notify.Mailbox{Path: filepath.Join(t.TempDir(), "mailbox.txt"), Logger: slog.New(slog.NewTextHandler(e.serverLog, nil))}}
	codes := otp.New(otp.NewBucket(store), func(ctx context.Context, clinicID string, input []byte) ([]byte, error) {
		return vc.HMAC(ctx, clinic.IndexKeyName(clinicID), input)
	}, nil)
	// A checkpoint of the disclosure ledger every 4 blocks: the API tests save and load them.
	e.deps = app.Deps{Records: e.svc, Clinic: people, Disclosures: disclosures, Tokens: downloads, Codes: codes,
		Notifier: e.mailbox, Audit: audit.Tee{audit.NewJSONLines(e.auditLog), trail}, Trail: trail,
		Jurisdiction: jurisdiction, CheckpointEvery: 4}
	svc, err := app.New(e.deps)
	if err != nil {
		t.Fatal(err)
	}
	if e.raw, err = m.Client(ctx); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuerURL := "http://" + ln.Addr().String()
	devUsers := map[string]devissuer.User{}
	for sub, roles := range users {
		devUsers[sub] = devissuer.User{Name: sub, Clinic: e.clinic, Roles: roles}
	}
	if e.issuer, err = devissuer.New(issuerURL, "recordvault", devUsers); err != nil {
		t.Fatal(err)
	}
	issuerSrv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: e.issuer.Handler()}}
	issuerSrv.Start()
	t.Cleanup(issuerSrv.Close)
	if e.verifier, err = auth.NewVerifier(ctx, auth.Config{Issuer: issuerURL, Audience: "recordvault", JWKSURL: e.issuer.JWKSURL()}); err != nil {
		t.Fatal(err)
	}
	e.api = svc
	e.url = e.serve(t)
	for sub, roles := range users {
		if slices.Contains(roles, recordvault.RoleClinician) {
			roster = append(roster, sub)
		}
	}
	for _, sub := range roster {
		if err := people.PutClinician(ctx, e.clinic, recordvault.Clinician{Subject: sub, Name: "Clinician " + sub, Licensed: true}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// serve starts an HTTP server of the env's service, logging to serverLog, with opts; it
// returns the server's URL.
func (e *apiEnv) serve(t testing.TB, opts ...handlers.Option) string {
	t.Helper()
	// Every caller of these tests comes from loopback: the limits on the routes without a
	// login are lifted unless a test sets its own (TestAPIAnonymousFlood).
	opts = append([]handlers.Option{handlers.WithRateLimits(rate.Inf, 1, rate.Inf, 1)}, opts...)
	srv := httptest.NewServer(handlers.NewServer(slog.New(slog.NewTextHandler(e.serverLog, &slog.HandlerOptions{Level: slog.LevelDebug})), nil,
		e.verifier, e.api, opts...))
	t.Cleanup(srv.Close)
	return srv.URL
}

// call sends a request as user (no token when user is "") and returns the status, headers
// and body. A body that is a string or []byte is sent as it is, anything else as JSON.
func (e *apiEnv) call(t testing.TB, user, method, path string, body any, header ...string) (int, http.Header, []byte) {
	t.Helper()
	resp := e.send(t, user, method, path, body, header...)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// send is call with the response to stream: the caller closes its body.
func (e *apiEnv) send(t testing.TB, user, method, path string, body any, header ...string) *http.Response {
	t.Helper()
	var r io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if user != "" {
		tok, err := e.issuer.Mint(user)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// must sends a request that has to answer want, and decodes its JSON answer into out.
func (e *apiEnv) must(t testing.TB, want int, out any, user, method, path string, body any, header ...string) {
	t.Helper()
	status, _, b := e.call(t, user, method, path, body, header...)
	if status != want {
		t.Fatalf("%s %s as %s: %d %s, want %d", method, path, user, status, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// createClient takes in a client through the API as user, with the given care team.
func (e *apiEnv) createClient(t testing.TB, user string, team []string) string {
	t.Helper()
	var c app.ClientView
	e.must(t, http.StatusCreated, &c, user, "POST", "/v1/clients", map[string]any{
		"identity": recordvault.Identity{FullName: "Client " + newID(), DateOfBirth: "1984-02-29"}, "care_team": team})
	return c.ID
}

// bucketState is every object key of the bucket with its ETag, but for the audit chain's
// blocks and its readers' checkpoints: refusals are recorded in the chain, as they should be,
// and a checkpoint only summarizes the chain.
func (e *apiEnv) bucketState(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for o := range e.raw.ListObjects(context.Background(), e.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if strings.HasPrefix(o.Key, "c/"+e.clinic+"/a/") || strings.HasPrefix(o.Key, "c/"+e.clinic+"/ac/") {
			continue
		}
		out[o.Key] = o.ETag
	}
	return out
}

// disclosureKey is the object key of the disclosure document id (a release, an authorization).
func (e *apiEnv) disclosureKey(t testing.TB, id string) string {
	t.Helper()
	for k := range e.bucketState(t) {
		if strings.Contains(k, "/d/") && strings.HasSuffix(k, "/"+id) {
			return k
		}
	}
	t.Fatalf("no object holds disclosure document %s", id)
	return ""
}

// progressNote is a complete progress note's fields.
func progressNote(plan string) map[string]any {
	return map[string]any{"date_of_service": "2026-11-20", "start_time": "09:00", "stop_time": "09:50",
		"modality": "individual", "cpt_code": "90834", "diagnosis_codes": []string{"F41.1"}, "plan": plan}
}
