//go:build integration

package integration

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/minio/minio-go/v7"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/internal/pdftext"
	"github.com/recordvault/recordvault/otp"
	"github.com/recordvault/recordvault/policy"
	"github.com/recordvault/recordvault/rvtest"
	"github.com/recordvault/recordvault/tokens"
)

// downloadEnv is a clinic with two clients who have their own logins (pat is a's, sam is
// b's) and an approved right-of-access release of a's progress note to a.
type downloadEnv struct {
	*apiEnv
	a, b, note, release string
}

func newDownloadEnv(t testing.TB) *downloadEnv {
	t.Helper()
	return newDownloadEnvOn(t, shared.minio)
}

// newDownloadEnvOn is newDownloadEnv on the S3 server given.
func newDownloadEnvOn(t testing.TB, s3 rvtest.S3) *downloadEnv {
	t.Helper()
	users := maps.Clone(releaseUsers)
	users["pat"], users["sam"] = []recordvault.Role{recordvault.RoleClient}, []recordvault.Role{recordvault.RoleClient}
	e := &downloadEnv{apiEnv: newAPIEnvOn(t, shared.vault, s3, "US", users)}
	e.a, e.b = e.clientBorn(t, "1980-01-01"), e.clientBorn(t, "1981-01-01")
	e.must(t, http.StatusNoContent, nil, "admin", "PUT", "/v1/clients/"+e.a+"/account", map[string]string{"subject": "pat"})
	e.must(t, http.StatusNoContent, nil, "admin", "PUT", "/v1/clients/"+e.b+"/account", map[string]string{"subject": "sam"})
	e.note = e.signedNote(t, recordvault.ProgressNote, e.a)
	var r app.ReleaseView
	e.must(t, http.StatusCreated, &r, "dr-lee", "POST", "/v1/clients/"+e.a+"/releases", map[string]any{"document": e.note,
		"basis": "right_of_access", "recipient": map[string]string{"kind": "client"}, "purpose": "the client's copy"})
	if r.Status != app.ReleaseApproved {
		t.Fatalf("release: %+v", r.Decision)
	}
	e.release = r.ID
	return e
}

// token issues a download token for release of client, as user.
func (e *downloadEnv) token(t testing.TB, user, client, release string) string {
	t.Helper()
	var v app.TokenView
	e.must(t, http.StatusCreated, &v, user, "POST", "/v1/clients/"+client+"/releases/"+release+"/tokens", nil)
	if d := time.Until(v.Expires); d > tokens.MaxTTL || d < 5*time.Minute {
		t.Fatalf("a token expiring in %s", d)
	}
	return v.Token
}

// redeem presents token as user ("" for no bearer token).
func (e *downloadEnv) redeem(t testing.TB, user, token string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	return e.call(t, user, "POST", "/downloads", map[string]string{"token": token}, header...)
}

// TestAPIDownload: the client's own login redeems a token for their release once: the copy
// holds exactly the released fields with the redisclosure caution, is not cached, and the
// same token is refused the second time.
func TestAPIDownload(t *testing.T) {
	e := newDownloadEnv(t)
	tok := e.token(t, "dr-lee", e.a, e.release)
	status, h, body := e.redeem(t, "pat", tok)
	if status != http.StatusOK || h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "no-referrer" ||
		!strings.HasPrefix(h.Get("Content-Disposition"), `attachment; filename="release-`) {
		t.Fatalf("download: %d %v %s", status, h, body)
	}
	var c app.ReleasedCopy
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	if c.Release != e.release || c.Document != e.note || len(c.Fields) != 7 || string(c.Fields["plan"]) != `"weekly CBT"` ||
		c.Notices[0] != policy.RedisclosureCaution || c.Citation != "45 CFR 164.524(a)(1)" {
		t.Fatalf("released copy: %+v", c)
	}
	if want := policy.Labels(recordvault.ProgressNote, false); !slices.Equal(c.Security, want) || !strings.Contains(string(body),
		`"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R","display":"restricted"}`) {
		t.Fatalf("the copy's security labels: %+v", c.Security)
	}
	if status, _, _ := e.redeem(t, "pat", tok); status != http.StatusUnauthorized {
		t.Fatalf("the same token again: %d", status)
	}
	// A clinician of the clinic named as recipient (treatment by another provider) proves it
	// with their own login.
	var toStaff app.ReleaseView
	e.must(t, http.StatusCreated, &toStaff, "dr-lee", "POST", "/v1/clients/"+e.a+"/releases", map[string]any{"document": e.note,
		"basis": "treatment", "recipient": map[string]string{"kind": "provider", "id": "dr-out"}, "purpose": "consultation"})
	staffTok := e.token(t, "dr-lee", e.a, toStaff.ID)
	if s, _, _ := e.redeem(t, "dr-lee", staffTok); s != http.StatusUnauthorized {
		t.Fatalf("another clinician redeeming a provider's token: %d", s)
	}
	if s, _, b := e.redeem(t, "dr-out", staffTok); s != http.StatusOK {
		t.Fatalf("the provider named as recipient: %d %s", s, b)
	}
	if own := e.token(t, "pat", e.a, e.release); own == "" {
		t.Fatal("the client could not issue a token for their own release")
	}
	if s, _, _ := e.call(t, "sam", "POST", "/v1/clients/"+e.a+"/releases/"+e.release+"/tokens", nil); s != http.StatusNotFound {
		t.Fatalf("another client issuing a token: %d", s)
	}
	trail := e.auditLog.String()
	if !strings.Contains(trail, `"action":"download","client":"`+e.a+`","record":"`+e.note+`","release":"`+e.release+`","token_id":"`) ||
		!strings.Contains(trail, `"rule":"the token was used before"`) || strings.Contains(trail, tok) {
		t.Error("the audit trail lacks the download or the refused replay, or holds the token")
	}
	if strings.Contains(e.serverLog.String(), tok) || strings.Contains(e.serverLog.String(), strings.Split(tok, ".")[2]) {
		t.Error("the server logged the token")
	}
}

// TestAPIDownloadRace: 50 concurrent redemptions of one token over HTTP: exactly one gets
// the document.
func TestAPIDownloadRace(t *testing.T) {
	e := newDownloadEnv(t)
	tok := e.token(t, "dr-lee", e.a, e.release)
	const n = 50
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { statuses[i], _, _ = e.redeem(t, "pat", tok) })
	}
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[http.StatusOK] != 1 || counts[http.StatusUnauthorized] != n-1 {
		t.Fatalf("50 redemptions of one token: %v", counts)
	}
}

// TestAPITokenAttacks: forged, altered, replayed, misdirected and stale tokens, and tokens
// without proof of the recipient, are all refused with the same answer, and each refusal is
// audited.
func TestAPITokenAttacks(t *testing.T) {
	e := newDownloadEnv(t)
	ctx := context.Background()
	vc := vaultClient(t, shared.vault)
	keyName := tokens.KeyName(e.clinic)
	_, keys, err := vc.SigningKeys(ctx, keyName)
	if err != nil {
		t.Fatal(err)
	}
	good := e.token(t, "dr-lee", e.a, e.release)
	var base tokens.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(good, &base); err != nil {
		t.Fatal(err)
	}
	// forge signs claims with the clinic's real Transit key, so only what was changed is wrong.
	forge := func(edit func(c *tokens.Claims), header map[string]any) string {
		c := base
		c.ID = newID() // never the control token's, which stays unused
		c.Audience = append(jwt.ClaimStrings{}, base.Audience...)
		if edit != nil {
			edit(&c)
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, c)
		tok.Header["kid"] = keyName + ":v1"
		maps.Copy(tok.Header, header)
		input, err := tok.SigningString()
		if err != nil {
			t.Fatal(err)
		}
		sig, err := vc.SignJWS(ctx, keyName, 1, []byte(input))
		if err != nil {
			t.Fatal(err)
		}
		return input + "." + sig
	}
	now := time.Now()
	at := func(d time.Duration) *jwt.NumericDate { return jwt.NewNumericDate(now.Add(d)) }
	der, _ := x509.MarshalPKIXPublicKey(keys[1])
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, base).SignedString(der)
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, base).SignedString(jwt.UnsafeAllowNoneSignatureType)
	otherKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other := jwt.NewWithClaims(jwt.SigningMethodES256, base)
	other.Header["kid"] = keyName + ":v1"
	forged, _ := other.SignedString(otherKey)
	parts := strings.Split(forge(nil, nil), ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"plan"`, `"risk_assessment"`, 1))) + "." + parts[2]

	// A second note of a, and b's release: real ids to point tokens at.
	secondNote := e.signedNote(t, recordvault.ProgressNote, e.a)
	var bRelease app.ReleaseView
	bNote := e.signedNote(t, recordvault.ProgressNote, e.b)
	e.must(t, http.StatusCreated, &bRelease, "dr-lee", "POST", "/v1/clients/"+e.b+"/releases", map[string]any{"document": bNote,
		"basis": "right_of_access", "recipient": map[string]string{"kind": "client"}, "purpose": "b's copy"})
	// A release to a under a's authorization, whose authorization is then revoked.
	var auth app.AuthorizationView
	e.must(t, http.StatusCreated, &auth, "admin", "POST", "/v1/clients/"+e.a+"/authorizations", authorizationForm(e.a, recordvault.ProgressNote))
	var authorized app.ReleaseView
	e.must(t, http.StatusCreated, &authorized, "dr-lee", "POST", "/v1/clients/"+e.a+"/releases", map[string]any{"document": e.note,
		"basis": "authorization", "recipient": map[string]string{"kind": "client"}, "purpose": "copy under the authorization"})
	revokedTok := e.token(t, "dr-lee", e.a, authorized.ID)
	e.must(t, http.StatusOK, nil, "admin", "POST", "/v1/clients/"+e.a+"/authorizations/"+auth.ID+"/revoke", nil)
	// A release to an attorney, who has no login: a one-time code would prove them.
	e.must(t, http.StatusCreated, nil, "admin", "POST", "/v1/clients/"+e.a+"/authorizations", authorizationForm("smith-law", recordvault.ProgressNote))
	var toAttorney app.ReleaseView
	e.must(t, http.StatusCreated, &toAttorney, "dr-lee", "POST", "/v1/clients/"+e.a+"/releases", map[string]any{"document": e.note,
		"basis": "authorization", "recipient": map[string]string{"kind": "attorney", "id": "smith-law", "email": "records@smith-law.example"}, "purpose": "custody"})
	attorneyTok := e.token(t, "admin", e.a, toAttorney.ID)
	e.must(t, http.StatusAccepted, nil, "", "POST", "/downloads/code", map[string]string{"token": attorneyTok})
	attorneyCode := e.mailbox.lastCode(t, "records@smith-law.example")
	spent := e.token(t, "admin", e.a, toAttorney.ID)
	e.must(t, http.StatusAccepted, nil, "", "POST", "/downloads/code", map[string]string{"token": spent})
	spentCode := e.mailbox.lastCode(t, "records@smith-law.example")
	e.must(t, http.StatusOK, nil, "", "POST", "/downloads", map[string]string{"token": spent, "code": spentCode})
	wrongCode := "00000000"
	if wrongCode == attorneyCode {
		wrongCode = "11111111"
	}
	// A release revoked by the clinic after its token was issued.
	var ended app.ReleaseView
	e.must(t, http.StatusCreated, &ended, "dr-lee", "POST", "/v1/clients/"+e.a+"/releases", map[string]any{"document": e.note,
		"basis": "right_of_access", "recipient": map[string]string{"kind": "client"}, "purpose": "a copy withdrawn"})
	endedTok := e.token(t, "dr-lee", e.a, ended.ID)
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", "/v1/clients/"+e.a+"/releases/"+ended.ID+"/revoke", map[string]string{"reason": "the client withdrew the request"})
	used := e.token(t, "dr-lee", e.a, e.release)
	if s, _, b := e.redeem(t, "pat", used); s != http.StatusOK {
		t.Fatalf("the token to replay: %d %s", s, b)
	}

	cases := []struct{ name, user, token, code string }{
		{"alg none", "pat", none, ""},
		{"HS256 signed with the public key", "pat", hs, ""},
		{"signed with another key", "pat", forged, ""},
		{"payload tampered after signing", "pat", tampered, ""},
		{"signature stripped", "pat", parts[0] + "." + parts[1] + ".", ""},
		{"oversized", "pat", good + strings.Repeat("A", tokens.MaxSize), ""},
		{"empty", "pat", "", ""},
		{"not a JWT", "pat", "download-me-please", ""},
		{"expired", "pat", forge(func(c *tokens.Claims) {
			c.IssuedAt, c.NotBefore, c.ExpiresAt = at(-20*time.Minute), at(-20*time.Minute), at(-time.Minute)
		}, nil), ""},
		{"not yet valid", "pat", forge(func(c *tokens.Claims) { c.NotBefore = at(5 * time.Minute) }, nil), ""},
		{"issued in the future", "pat", forge(func(c *tokens.Claims) { c.IssuedAt = at(5 * time.Minute) }, nil), ""},
		{"lives longer than the cap", "pat", forge(func(c *tokens.Claims) { c.ExpiresAt = at(tokens.MaxTTL + time.Minute) }, nil), ""},
		{"no expiry", "pat", forge(func(c *tokens.Claims) { c.ExpiresAt = nil }, nil), ""},
		{"another issuer", "pat", forge(func(c *tokens.Claims) { c.Issuer = "evil" }, nil), ""},
		{"wrong audience", "pat", forge(func(c *tokens.Claims) { c.Audience = jwt.ClaimStrings{e.b} }, nil), ""},
		{"two audiences", "pat", forge(func(c *tokens.Claims) { c.Audience = jwt.ClaimStrings{e.a, e.b} }, nil), ""},
		{"wrong document", "pat", forge(func(c *tokens.Claims) { c.Document = secondNote }, nil), ""},
		{"wrong release", "pat", forge(func(c *tokens.Claims) { c.Subject = bRelease.ID }, nil), ""},
		{"unknown release", "pat", forge(func(c *tokens.Claims) { c.Subject = newID() }, nil), ""},
		{"tampered scope, re-signed", "pat", forge(func(c *tokens.Claims) { c.Fields = []string{"plan"} }, nil), ""},
		{"wider scope, re-signed", "pat", forge(func(c *tokens.Claims) { c.Fields = append(c.Fields, "risk_assessment") }, nil), ""},
		{"another content hash", "pat", forge(func(c *tokens.Claims) { c.ContentHash = "sha256:00" }, nil), ""},
		{"another client's store", "pat", forge(func(c *tokens.Claims) { c.Client = e.b }, nil), ""},
		{"kid of another clinic", "pat", forge(nil, map[string]any{"kid": tokens.KeyName(newID()) + ":v1"}), ""},
		{"kid of the manifest key", "pat", forge(nil, map[string]any{"kid": "rv-" + e.clinic + "-manifest-signing:v1"}), ""},
		{"unknown key version", "pat", forge(nil, map[string]any{"kid": keyName + ":v9"}), ""},
		{"no kid", "pat", forge(nil, map[string]any{"kid": nil}), ""},
		{"ES384 named in the header", "pat", forge(nil, map[string]any{"alg": "ES384"}), ""},
		{"replayed after use", "pat", used, ""},
		{"release ended by a revoked authorization", "pat", revokedTok, ""},
		{"no proof of the recipient", "", good, ""},
		{"another client's login", "sam", good, ""},
		{"a clinician's login", "dr-lee", good, ""},
		{"a clinic admin's login", "admin", good, ""},
		{"a recipient without a login, no one-time code", "", attorneyTok, ""},
		{"a wrong one-time code", "", attorneyTok, wrongCode},
		{"a one-time code of another token", "", attorneyTok, spentCode},
		{"a one-time code reused", "", spent, spentCode},
		{"a one-time code of the wrong length", "", attorneyTok, attorneyCode + "0"},
		{"a release revoked by the clinic", "pat", endedTok, ""},
	}
	var first []byte
	for _, c := range cases {
		status, _, body := e.call(t, c.user, "POST", "/downloads", map[string]string{"token": c.token, "code": c.code})
		if status != http.StatusUnauthorized {
			t.Errorf("%s: %d %s", c.name, status, body)
			continue
		}
		if first == nil {
			first = body
		} else if string(body) != string(first) {
			t.Errorf("%s: answered %s, unlike %s", c.name, body, first)
		}
	}
	if s, _, _ := e.redeem(t, "pat", good); s != http.StatusOK {
		t.Fatalf("the control token, after %d attacks: %d", len(cases), s)
	}
	for _, reason := range []string{"the token names another recipient", "the token names another document or scope",
		"the document changed since the token was issued", "the release is revoked", "the token was used before",
		"no proof of being the recipient", "the caller is not the client the release is for", "one-time code", "no such release",
		"token is expired", "token is not valid yet", "signature is invalid", "token is unverifiable"} {
		if !strings.Contains(e.auditLog.String(), reason) {
			t.Errorf("no refusal audited as %q", reason)
		}
	}
	refusals := strings.Count(e.auditLog.String(), `"action":"download","client":`) + strings.Count(e.auditLog.String(), `"clinic":"","action":"download"`)
	if refusals < len(cases) {
		t.Errorf("%d download events audited for %d refused attacks and 2 downloads", refusals, len(cases))
	}
	t.Logf("%d attacks refused", len(cases))
}

// TestAPIDownloadWithCode: an attorney has no login; the token's holder asks for a one-time
// code, which goes to the attorney's registered address; the download needs it, refuses a
// wrong one and a reused one, and a token gets at most three codes.
func TestAPIDownloadWithCode(t *testing.T) {
	e := newDownloadEnv(t)
	const address = "records@smith-law.example"
	e.must(t, http.StatusCreated, nil, "admin", "POST", "/v1/clients/"+e.a+"/authorizations", authorizationForm("smith-law", recordvault.ProgressNote))
	var r app.ReleaseView
	e.must(t, http.StatusCreated, &r, "dr-lee", "POST", "/v1/clients/"+e.a+"/releases", map[string]any{"document": e.note,
		"basis": "authorization", "purpose": "custody", "fields": []string{"plan", "diagnosis_codes"},
		"recipient": map[string]string{"kind": "attorney", "id": "smith-law", "name": "Smith Law LLP", "email": address}})
	if r.Status != app.ReleaseApproved {
		t.Fatalf("release: %+v", r.Decision)
	}
	tok := e.token(t, "admin", e.a, r.ID)
	if s, _, b := e.redeem(t, "", tok); s != http.StatusUnauthorized {
		t.Fatalf("without a code: %d %s", s, b)
	}
	e.must(t, http.StatusAccepted, nil, "", "POST", "/downloads/code", map[string]string{"token": tok})
	code := e.mailbox.lastCode(t, address)
	wrong := "00000000"
	if code == wrong {
		wrong = "11111111"
	}
	if s, _, _ := e.call(t, "", "POST", "/downloads", map[string]string{"token": tok, "code": wrong}); s != http.StatusUnauthorized {
		t.Fatalf("a wrong code: %d", s)
	}
	status, _, body := e.call(t, "", "POST", "/downloads", map[string]string{"token": tok, "code": code})
	if status != http.StatusOK {
		t.Fatalf("with the code: %d %s", status, body)
	}
	var c app.ReleasedCopy
	if err := json.Unmarshal(body, &c); err != nil || len(c.Fields) != 2 || c.Recipient.Name != "Smith Law LLP" {
		t.Fatalf("the attorney's copy: %v %+v", err, c)
	}
	if s, _, _ := e.call(t, "", "POST", "/downloads", map[string]string{"token": tok, "code": code}); s != http.StatusUnauthorized {
		t.Fatalf("the code and token again: %d", s)
	}

	// A fresh token: a code of another token does not open it; codes run out after three.
	second := e.token(t, "admin", e.a, r.ID)
	if s, _, _ := e.call(t, "", "POST", "/downloads", map[string]string{"token": second, "code": code}); s != http.StatusUnauthorized {
		t.Fatalf("another token's code: %d", s)
	}
	for i := range 3 {
		if s, _, b := e.call(t, "", "POST", "/downloads/code", map[string]string{"token": second}); s != http.StatusAccepted {
			t.Fatalf("code %d: %d %s", i+1, s, b)
		}
	}
	if s, _, _ := e.call(t, "", "POST", "/downloads/code", map[string]string{"token": second}); s != http.StatusUnauthorized {
		t.Fatalf("a fourth code: %d", s)
	}
	if s, _, _ := e.call(t, "", "POST", "/downloads/code", map[string]string{"token": e.token(t, "dr-lee", e.a, e.release)}); s != http.StatusUnauthorized {
		t.Fatalf("a code for a release to a client with a login: %d", s)
	}
	if strings.Contains(e.serverLog.String(), code) || strings.Contains(e.auditLog.String(), code) || strings.Contains(e.auditLog.String(), address) {
		t.Error("a code or the address reached the logs")
	}
}

// TestAPIDownloadPDF: the released copy as PDF: a cover sheet naming the release, recipient,
// basis and citation, the notice (42 CFR 2.32 for an SUD record, the redisclosure caution
// otherwise), and a watermark with the recipient and release on every page.
func TestAPIDownloadPDF(t *testing.T) {
	e := newDownloadEnv(t)
	var sud app.RecordView
	e.must(t, http.StatusCreated, &sud, "dr-lee", "POST", "/v1/clients/"+e.a+"/records", map[string]any{"category": "sud_record", "sign": true,
		"fields": map[string]any{"date_of_service": "2026-10-01", "note": strings.Repeat("Attended group; reports 30 days abstinent. ", 200)}})
	var r app.ReleaseView
	e.must(t, http.StatusCreated, &r, "dr-lee", "POST", "/v1/clients/"+e.a+"/releases", map[string]any{"document": sud.ID,
		"basis": "right_of_access", "recipient": map[string]string{"kind": "client", "name": "Pat Client"}, "purpose": "the client's copy"})
	for _, c := range []struct{ release, notice string }{{r.ID, "42 CFR part 2"}, {e.release, "Further disclosure may be restricted"}} {
		status, h, doc := e.redeem(t, "pat", e.token(t, "pat", e.a, c.release), "Accept", "application/pdf")
		if status != http.StatusOK || h.Get("Content-Type") != "application/pdf" || !strings.HasSuffix(h.Get("Content-Disposition"), `.pdf"`) {
			t.Fatalf("PDF download: %d %v", status, h)
		}
		pages, err := pdftext.Pages(doc)
		if err != nil {
			t.Fatal(err)
		}
		if len(pages) < 2 || !strings.Contains(pages[0], "Release "+c.release) || !strings.Contains(pages[0], "Legal basis: the client's request for their own records") || !strings.Contains(pages[0], "164.524(a)(1)") ||
			!strings.Contains(pages[0], c.notice) {
			t.Fatalf("the cover sheet of %s: %q", c.release, pages[0])
		}
		for i, p := range pages {
			if !strings.Contains(p, "release "+c.release) {
				t.Errorf("page %d of %s lacks the watermark", i+1, c.release)
			}
		}
	}
}

// TestAPIDownloadBundle: an evaluation released whole comes as a ZIP of the watermarked copy
// and the attached PDF byte for byte; released by named fields, it comes without the
// attachment.
func TestAPIDownloadBundle(t *testing.T) {
	e := newDownloadEnv(t)
	base := "/v1/clients/" + e.a + "/records"
	var eval app.RecordView
	e.must(t, http.StatusCreated, &eval, "dr-lee", "POST", base, map[string]any{"category": "evaluation",
		"fields": map[string]any{"date_of_service": "2026-11-02", "summary": "WAIS-IV within normal limits."}})
	pdf := append([]byte("%PDF-1.7\n"), randomBytes(300_000)...)
	e.must(t, http.StatusCreated, nil, "dr-lee", "POST", base+"/"+eval.ID+"/attachments", pdf, "Content-Type", "application/pdf")
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", base+"/"+eval.ID+"/sign", nil)
	release := func(fields []string) string {
		var r app.ReleaseView
		e.must(t, http.StatusCreated, &r, "dr-lee", "POST", "/v1/clients/"+e.a+"/releases", map[string]any{"document": eval.ID,
			"basis": "right_of_access", "recipient": map[string]string{"kind": "client"}, "purpose": "copy", "fields": fields})
		return r.ID
	}
	for _, c := range []struct {
		fields []string
		files  int
	}{{nil, 2}, {[]string{"summary"}, 1}} {
		id := release(c.fields)
		status, h, body := e.redeem(t, "pat", e.token(t, "pat", e.a, id), "Accept", "application/zip")
		if status != http.StatusOK || h.Get("Content-Type") != "application/zip" {
			t.Fatalf("bundle: %d %v", status, h)
		}
		z, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil || len(z.File) != c.files {
			t.Fatalf("bundle of release with fields %v: %v, %d files, want %d", c.fields, err, len(z.File), c.files)
		}
		for _, f := range z.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case strings.HasPrefix(f.Name, "attachment-"):
				if !bytes.Equal(got, pdf) {
					t.Errorf("the attachment in the bundle differs: %d bytes, want %d", len(got), len(pdf))
				}
			default:
				pages, err := pdftext.Pages(got)
				if err != nil || !strings.Contains(strings.Join(pages, ""), "release "+id) {
					t.Errorf("the bundle's copy %s: %v", f.Name, err)
				}
			}
		}
	}
}

// TestAPIDownloadKeyRotation: after the clinic's download key is rotated, a token signed by
// the old version still redeems, and one signed by the new version redeems too: its kid
// names a version the service had not seen, so it reads the public keys again.
func TestAPIDownloadKeyRotation(t *testing.T) {
	e := newDownloadEnv(t)
	ctx := context.Background()
	vc := vaultClient(t, shared.vault)
	keyName := tokens.KeyName(e.clinic)
	old := e.token(t, "dr-lee", e.a, e.release)
	var claims tokens.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(e.token(t, "dr-lee", e.a, e.release), &claims); err != nil {
		t.Fatal(err)
	}
	if _, err := vc.RotateKey(ctx, keyName); err != nil {
		t.Fatal(err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = keyName + ":v2"
	input, err := tok.SigningString()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := vc.SignJWS(ctx, keyName, 2, []byte(input))
	if err != nil {
		t.Fatal(err)
	}
	// The service reads a key again for an unknown version at most once a second (forged
	// kids must not each cost a Vault call); it read this one when the tokens were issued.
	e.tokensAhead.Store(int64(1100 * time.Millisecond))
	for name, token := range map[string]string{"signed by version 1": old, "signed by version 2": input + "." + sig} {
		if s, _, b := e.redeem(t, "pat", token); s != http.StatusOK {
			t.Errorf("a token %s: %d %s", name, s, b)
		}
	}
}

// TestAPIRevokedReleaseRolledBack: a bucket writer puts back the release record as it was
// before the clinic revoked it (a genuine older version, seal and all). The record reads as
// approved again, but the signed audit trail records the end: no token is issued for it and
// a token issued before the revocation is refused, the reason audited.
func TestAPIRevokedReleaseRolledBack(t *testing.T) {
	e := newDownloadEnv(t)
	base := "/v1/clients/" + e.a + "/releases/" + e.release
	key := e.disclosureKey(t, e.release)
	approved := getObject(t, e.raw, e.bucket, key)
	tok := e.token(t, "pat", e.a, e.release)
	e.must(t, http.StatusOK, nil, "dr-lee", "POST", base+"/revoke", map[string]string{"reason": "issued in error"})
	putObject(t, e.raw, e.bucket, key, approved)

	var r app.ReleaseView
	e.must(t, http.StatusOK, &r, "pat", "GET", base, nil)
	if r.Status != app.ReleaseApproved {
		t.Fatalf("the rolled-back record reads as %s", r.Status)
	}
	if s, _, b := e.call(t, "pat", "POST", base+"/tokens", nil); s != http.StatusConflict {
		t.Fatalf("a token for the revived release: %d %s", s, b)
	}
	if s, _, b := e.redeem(t, "pat", tok); s != http.StatusUnauthorized {
		t.Fatalf("a token issued before the revocation: %d %s", s, b)
	}
	if !slices.ContainsFunc(strings.Split(e.auditLog.String(), "\n"), func(line string) bool {
		return strings.Contains(line, `"release":"`+e.release+`"`) && strings.Contains(line, `"allowed":false,"rule":"the audit trail records the end of the release"`)
	}) {
		t.Errorf("the refusal was not audited with its reason")
	}
}

// TestAPIDisclosureStateRolledBack: what a bucket writer can still do to disclosure state
// without Vault is put back an older genuine version or delete a marker; the signed trail
// keeps both from reviving anything. A revoked authorization put back as active stays
// revoked (no release relies on it); a used token whose used-up marker is deleted stays used;
// a one-time code's state put back allows no more codes and no more tries.
func TestAPIDisclosureStateRolledBack(t *testing.T) {
	e := newDownloadEnv(t)
	ctx := context.Background()
	base := "/v1/clients/" + e.a
	var auth app.AuthorizationView
	e.must(t, http.StatusCreated, &auth, "admin", "POST", base+"/authorizations", authorizationForm("smith-law", recordvault.ProgressNote))
	key := e.disclosureKey(t, auth.ID)
	active := getObject(t, e.raw, e.bucket, key)
	e.must(t, http.StatusOK, nil, "admin", "POST", base+"/authorizations/"+auth.ID+"/revoke", nil)
	putObject(t, e.raw, e.bucket, key, active)
	var list struct{ Items []app.AuthorizationView }
	e.must(t, http.StatusOK, &list, "admin", "GET", base+"/authorizations", nil)
	if len(list.Items) != 1 || !list.Items[0].Revoked {
		t.Fatalf("the rolled-back authorization lists as %+v", list.Items)
	}
	var r app.ReleaseView
	e.must(t, http.StatusCreated, &r, "dr-lee", "POST", base+"/releases", map[string]any{"document": e.note, "basis": "authorization",
		"purpose": "custody", "recipient": map[string]string{"kind": "attorney", "id": "smith-law", "email": "smith-law@recipients.example"}})
	if r.Status == app.ReleaseApproved {
		t.Fatalf("a release under the rolled-back authorization: %+v", r.Decision)
	}

	before := e.bucketState(t)
	tok := e.token(t, "pat", e.a, e.release)
	if s, _, b := e.redeem(t, "pat", tok); s != http.StatusOK {
		t.Fatalf("the download: %d %s", s, b)
	}
	var marker string
	for k := range e.bucketState(t) {
		if _, ok := before[k]; !ok && strings.Contains(k, "/t/") {
			marker = k
		}
	}
	if marker == "" {
		t.Fatal("the token's used-up marker was not found")
	}
	if err := e.raw.RemoveObject(ctx, e.bucket, marker, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if s, _, b := e.redeem(t, "pat", tok); s != http.StatusUnauthorized {
		t.Fatalf("the token again, its marker deleted: %d %s", s, b)
	}
	if n := strings.Count(e.auditLog.String(), `"rule":"the token was used before"`); n != 1 {
		t.Errorf("%d refusals audited as a token used before; want 1", n)
	}

	// One-time codes: their state (sends, tries) put back to an earlier copy resets neither
	// count, for the trail counts both per token.
	const address = "records@jones-law.example"
	var sub app.ReleaseView
	e.must(t, http.StatusCreated, &sub, "dr-lee", "POST", base+"/releases", map[string]any{"document": e.note, "basis": "subpoena",
		"fields": []string{"cpt_code"}, "purpose": "civil litigation", "assurances": map[string]any{"protective_order": true},
		"recipient": map[string]string{"kind": "attorney", "id": "jones-law", "name": "Jones & Co", "email": address}})
	codeState := func(tok string) (key string, body []byte) {
		t.Helper()
		before := e.bucketState(t)
		e.must(t, http.StatusAccepted, nil, "", "POST", "/downloads/code", map[string]string{"token": tok})
		for k := range e.bucketState(t) {
			if _, ok := before[k]; !ok && strings.Contains(k, "/o/") {
				key = k
			}
		}
		if key == "" {
			t.Fatal("the code's state was not found")
		}
		return key, getObject(t, e.raw, e.bucket, key)
	}
	sends := e.token(t, "admin", e.a, sub.ID)
	key, first := codeState(sends)
	e.must(t, http.StatusAccepted, nil, "", "POST", "/downloads/code", map[string]string{"token": sends})
	e.must(t, http.StatusAccepted, nil, "", "POST", "/downloads/code", map[string]string{"token": sends})
	putObject(t, e.raw, e.bucket, key, first) // one send, as the state now says
	if s, _, b := e.call(t, "", "POST", "/downloads/code", map[string]string{"token": sends}); s != http.StatusUnauthorized {
		t.Fatalf("a fourth code, the state put back: %d %s", s, b)
	}

	tries := e.token(t, "admin", e.a, sub.ID)
	key, fresh := codeState(tries)
	code := e.mailbox.lastCode(t, address)
	wrong := "00000000"
	if code == wrong {
		wrong = "11111111"
	}
	for round := range otp.MaxSends {
		for range otp.MaxAttempts {
			if s, _, _ := e.call(t, "", "POST", "/downloads", map[string]string{"token": tries, "code": wrong}); s != http.StatusUnauthorized {
				t.Fatalf("a wrong code: %d", s)
			}
		}
		putObject(t, e.raw, e.bucket, key, fresh) // no tries yet, as the state now says
		t.Logf("round %d: tries reset", round+1)
	}
	if s, _, b := e.call(t, "", "POST", "/downloads", map[string]string{"token": tries, "code": code}); s != http.StatusUnauthorized {
		t.Fatalf("the right code after %d refused, the state put back: %d %s", otp.MaxSends*otp.MaxAttempts, s, b)
	}
	if !strings.Contains(e.auditLog.String(), `"rule":"too many refused one-time codes for this token"`) {
		t.Error("the refusal was not audited with its reason")
	}
}
