//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"
	"golang.org/x/oauth2"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/sdk"
)

// sdkAs is the Go client of e's service, logged in as user.
func (e *apiEnv) sdkAs(t *testing.T, user string) *sdk.ClientWithResponses {
	t.Helper()
	tok, err := e.issuer.Mint(user)
	if err != nil {
		t.Fatal(err)
	}
	c, err := sdk.New(e.url, sdk.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok})))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func date(t *testing.T, s string) openapi_types.Date {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return openapi_types.Date{Time: d}
}

// The Go client against the real stack: a client taken in, an evaluation drafted with a PDF
// streamed up, signed, read back whole and by range; a note released to the client and
// downloaded by her own login; unknown resources as sdk.ErrNotFound, bad input as
// sdk.ErrInvalid, each with the service's problem.
func TestSDKAgainstTheStack(t *testing.T) {
	ctx := context.Background()
	e := newAPIEnv(t, map[string][]recordvault.Role{"dr-lee": {recordvault.RoleClinician}, "admin": {recordvault.RoleClinicAdmin},
		"client-ana": {recordvault.RoleClient}})
	lee, admin, ana := e.sdkAs(t, "dr-lee"), e.sdkAs(t, "admin"), e.sdkAs(t, "client-ana")

	created, err := admin.CreateClientWithResponse(ctx, sdk.CreateClientJSONRequestBody{
		Identity: sdk.Identity{FullName: "Ana Example", DateOfBirth: date(t, "1990-04-01")}, CareTeam: &[]string{"dr-lee"}})
	if err != nil || created.JSON201 == nil || created.JSON201.Id == nil {
		t.Fatalf("create client: %+v, %v", created, err)
	}
	client := *created.JSON201.Id

	draft, err := lee.CreateRecordWithResponse(ctx, client, sdk.NewRecord{Category: sdk.NewRecordCategoryEvaluation,
		Fields: map[string]any{"date_of_service": "2026-11-20", "summary": "Assessed."}})
	if err != nil || draft.JSON201 == nil {
		t.Fatalf("draft: %+v, %v", draft, err)
	}
	record := *draft.JSON201.Id
	pdf := append([]byte("%PDF-1.7\n"), randomBytes(3<<20)...)
	attached, err := lee.AddAttachmentWithBodyWithResponse(ctx, client, record, "application/pdf",
		io.MultiReader(bytes.NewReader(pdf)), sdk.ContentLength(int64(len(pdf)))) // a stream, as a file is
	if err != nil || attached.JSON201 == nil || attached.JSON201.Id == nil {
		t.Fatalf("attach: %+v, %v", attached, err)
	}
	attachment := *attached.JSON201.Id
	if _, err := lee.SignRecordWithResponse(ctx, client, record); err != nil {
		t.Fatalf("sign: %v", err)
	}
	whole, err := lee.GetAttachment(ctx, client, record, attachment, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(whole.Body)
	whole.Body.Close()
	if err != nil || !bytes.Equal(got, pdf) {
		t.Fatalf("the attachment read back: %d bytes, %v; want the %d sent", len(got), err, len(pdf))
	}
	rng := "bytes=1000000-1000099"
	part, err := lee.GetAttachment(ctx, client, record, attachment, &sdk.GetAttachmentParams{Range: &rng})
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(part.Body)
	part.Body.Close()
	if err != nil || part.StatusCode != http.StatusPartialContent || !bytes.Equal(got, pdf[1000000:1000100]) {
		t.Fatalf("a range: %d, %d bytes, %v", part.StatusCode, len(got), err)
	}

	// Errors: one type, matched by sentinel, with the problem's detail.
	_, err = lee.GetRecordWithResponse(ctx, client, newID())
	var apiErr *sdk.Error
	if !errors.Is(err, sdk.ErrNotFound) || !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
		t.Errorf("an unknown record: %v", err)
	}
	if _, err := lee.CreateRecordWithResponse(ctx, client, sdk.NewRecord{Category: "no_such_category", Fields: map[string]any{}}); !errors.Is(err, sdk.ErrInvalid) {
		t.Errorf("an unknown category: %v", err)
	}

	contact := "1 Lake St, Springfield; 555-0100"
	if _, err := admin.SetClinicProfileWithResponse(ctx, sdk.SetClinicProfileJSONRequestBody{Name: "Lakeside Counseling", Contact: &contact}); err != nil {
		t.Fatalf("the clinic's profile: %v", err)
	}

	// A note released to the client, downloaded by her own login.
	note := e.signedNote(t, recordvault.ProgressNote, client)
	if _, err := admin.LinkAccountWithResponse(ctx, client, sdk.LinkAccountJSONRequestBody{Subject: "client-ana"}); err != nil {
		t.Fatalf("link: %v", err)
	}
	in := sdk.CreateReleaseJSONRequestBody{Document: note, Basis: sdk.ReleaseInputBasisRightOfAccess, Purpose: "Ana's copy"}
	in.Recipient.Kind = sdk.ReleaseInputRecipientKindClient
	release, err := lee.CreateReleaseWithResponse(ctx, client, in)
	if err != nil || release.JSON201 == nil || release.JSON201.Id == nil {
		t.Fatalf("release: %+v, %v", release, err)
	}
	token, err := ana.IssueTokenWithResponse(ctx, client, *release.JSON201.Id)
	if err != nil || token.JSON201 == nil || token.JSON201.Token == nil {
		t.Fatalf("token: %+v, %v", token, err)
	}
	format := sdk.Json
	copy, err := ana.DownloadWithResponse(ctx, nil, sdk.DownloadJSONRequestBody{Token: *token.JSON201.Token, Format: &format})
	if err != nil || copy.HTTPResponse.StatusCode != http.StatusOK || !bytes.Contains(copy.Body, []byte(note)) {
		t.Fatalf("download: %v, %s", err, copy.Body)
	}
	// A copy people can read: who it is about, who wrote and signed it, labels and titles.
	for _, want := range []string{`"clinic_name":"Lakeside Counseling"`, `"clinic_contact":"1 Lake St, Springfield; 555-0100"`,
		`"client":{"name":"Ana Example","date_of_birth":"1990-04-01"}`, `"author":{"subject":"dr-lee"`,
		`"date_of_service":"Date of service"`, `"diagnosis_titles":{"F41.1":"Generalized anxiety disorder"}`, `"signed":"`} {
		if !bytes.Contains(copy.Body, []byte(want)) {
			t.Errorf("the JSON copy lacks %s: %s", want, copy.Body)
		}
	}
	if _, err := ana.DownloadWithResponse(ctx, nil, sdk.DownloadJSONRequestBody{Token: *token.JSON201.Token, Format: &format}); !errors.Is(err, sdk.ErrUnauthorized) {
		t.Errorf("the token again: %v, want sdk.ErrUnauthorized (a link is used once)", err)
	}

	// The copy's certification: the clinic, and the client, confirm it by its code, typed
	// as a person would; the trail says which release, to whom, and what content.
	var certified struct {
		Certification struct {
			Code        string `json:"code"`
			ContentHash string `json:"content_hash"`
			Statement   string `json:"statement"`
		} `json:"certification"`
	}
	if err := json.Unmarshal(copy.Body, &certified); err != nil || len(certified.Certification.Code) != 14 ||
		!strings.HasPrefix(certified.Certification.ContentHash, "sha256:") || certified.Certification.Statement == "" {
		t.Fatalf("the copy's certification: %+v, %v", certified, err)
	}
	cert := certified.Certification
	typed := strings.ToLower(strings.ReplaceAll(cert.Code, "-", " "))
	for name, who := range map[string]*sdk.ClientWithResponses{"the clinic admin": admin, "the client": ana} {
		found, err := who.VerifyCertificationWithResponse(ctx, typed)
		if err != nil || found.JSON200 == nil {
			t.Fatalf("%s verifies %q: %v", name, typed, err)
		}
		v := found.JSON200
		if *v.Code != cert.Code || *v.Release != *release.JSON201.Id || *v.Client != client || *v.Document != note ||
			*v.ContentHash != cert.ContentHash || !*v.Unchanged || (*v.Recipient)["kind"] != "client" || time.Since(*v.Delivered) > time.Hour {
			t.Errorf("%s verifies the copy: %+v", name, v)
		}
	}
	other := recordvault.CertificationCode("a token never issued")
	if _, err := admin.VerifyCertificationWithResponse(ctx, other); !errors.Is(err, sdk.ErrNotFound) {
		t.Errorf("an unknown code: %v, want sdk.ErrNotFound", err)
	}
	if _, err := admin.VerifyCertificationWithResponse(ctx, "not-a-code"); !errors.Is(err, sdk.ErrInvalid) {
		t.Errorf("a malformed code: %v, want sdk.ErrInvalid", err)
	}
}
