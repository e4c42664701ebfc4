//go:build integration

package integration

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/audit"
	clinicpkg "github.com/recordvault/recordvault/clinic"
	"github.com/recordvault/recordvault/disclosure"
	"github.com/recordvault/recordvault/records"
	"github.com/recordvault/recordvault/transit"
	"github.com/recordvault/recordvault/vault"
)

// installPolicy writes deploy/helm/recordvault/files/recordvault-policy.hcl for clinic into Vault as policyName.
func installPolicy(t *testing.T, api *vaultapi.Client, clinic, policyName string) {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(root, "deploy", "helm", "recordvault", "files", "recordvault-policy.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := api.Sys().PutPolicy(policyName, strings.ReplaceAll(string(tmpl), "CLINIC", clinic)); err != nil {
		t.Fatal(err)
	}
}

// The service does all its work with a token holding only the deployed policy for its clinic,
// and that token is refused key export, trimming, weakening a key, and every other clinic's
// keys.
func TestLeastPrivilegePolicy(t *testing.T) {
	ctx := context.Background()
	root, err := shared.vault.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clinic, otherClinic := newID(), newID()
	// The other clinic exists, with its keys, provisioned by the root token.
	if err := vaultClient(t, shared.vault).ProvisionClinic(ctx, otherClinic); err != nil {
		t.Fatal(err)
	}
	installPolicy(t, root, clinic, "rv-"+clinic)
	tok, err := root.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: []string{"rv-" + clinic}, NoDefaultPolicy: true, TTL: "10m"})
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := shared.vault.Addr(ctx)
	limited, err := vault.New(vault.Config{Addr: addr, Token: tok.Auth.ClientToken})
	if err != nil {
		t.Fatal(err)
	}
	store, _ := newStore(t, shared.minio)
	svc := records.New(limited, records.NewBucket(store), nil)

	// Everything the service does.
	if err := limited.Ready(ctx); err != nil {
		t.Fatalf("ready with the policy: %v", err)
	}
	if err := limited.ProvisionClinic(ctx, clinic); err != nil {
		t.Fatalf("provision every key of package transit's table with the policy: %v", err)
	}
	client := newID()
	d, err := svc.Create(ctx, records.NewRecord{Clinic: clinic, Category: recordvault.ProgressNote, Participants: []string{client},
		Author: "dr-lee", Fields: map[string][]byte{"plan": []byte("p")}, Attachments: []records.NewAttachment{{Body: bytes.NewReader([]byte("pdf")), Size: 3}}})
	if err != nil {
		t.Fatalf("put with the policy: %v", err)
	}
	if _, err := svc.RotateCategory(ctx, clinic, recordvault.ProgressNote); err != nil {
		t.Fatalf("rotate with the policy: %v", err)
	}
	if err := svc.RetireKeyVersions(ctx, clinic, recordvault.ProgressNote, 2); err != nil {
		t.Fatalf("retire with the policy: %v", err)
	}
	d, err = svc.Load(ctx, clinic, client, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fields, err := svc.Read(ctx, d, nil); err != nil || string(fields["plan"]) != "p" {
		t.Fatalf("read with the policy: %q, %v", fields, err)
	}
	people := clinicpkg.New(limited, clinicpkg.NewBucket(store), nil)
	jo, err := people.CreateClient(ctx, clinic, recordvault.Identity{FullName: "Jo Example", DateOfBirth: "1990-04-01"}, nil)
	if err != nil {
		t.Fatalf("create a client with the policy: %v", err)
	}
	if found, err := people.FindClients(ctx, clinic, "jo  EXAMPLE", "1990-04-01"); err != nil || len(found) != 1 || found[0] != jo.ID {
		t.Fatalf("find a client with the policy: %v, %v", found, err)
	}
	if id, err := people.Identity(ctx, jo); err != nil || id.FullName != "Jo Example" {
		t.Fatalf("read an identity with the policy: %v", err)
	}
	if err := people.PutClinician(ctx, clinic, recordvault.Clinician{Subject: "dr-lee", Name: "Dr Lee", Licensed: true}); err != nil {
		t.Fatalf("add a clinician with the policy: %v", err)
	}
	if err := people.SetCareTeam(ctx, jo, []string{"dr-lee"}); err != nil {
		t.Fatalf("set a care team with the policy: %v", err)
	}
	if err := people.LinkAccount(ctx, jo, "login-jo"); err != nil {
		t.Fatalf("link an account with the policy: %v", err)
	}
	reader := clinicpkg.New(limited, clinicpkg.NewBucket(store), nil) // a process that has not seen these yet checks their tags
	if loaded, err := reader.LoadClient(ctx, clinic, jo.ID); err != nil || len(loaded.CareTeam) != 1 {
		t.Fatalf("check a profile's tag with the policy: %v", err)
	}
	if roster, err := reader.Clinicians(ctx, clinic); err != nil || len(roster) != 1 || !roster[0].Licensed {
		t.Fatalf("check the roster's tag with the policy: %v", err)
	}
	disclosures := disclosure.New(limited, limited, disclosure.NewBucket(store), nil)
	doc, err := disclosures.Create(ctx, clinic, jo.ID, recordvault.NewID(), "authorization", "active", "signed form")
	if err != nil {
		t.Fatalf("store a disclosure document with the policy: %v", err)
	}
	if got, err := disclosures.Load(ctx, clinic, jo.ID, doc.ID, "authorization"); err != nil || string(got.Body) != `"signed form"` {
		t.Fatalf("read a disclosure document with the policy: %v", err)
	}
	sig, err := disclosures.SignManifest(ctx, clinic, []byte("manifest"))
	if err != nil {
		t.Fatalf("sign a manifest with the policy: %v", err)
	}
	if ok, err := disclosures.VerifyManifest(ctx, clinic, []byte("manifest"), sig); err != nil || !ok {
		t.Fatalf("verify a manifest with the policy: %v %v", ok, err)
	}
	if ok, err := disclosures.VerifyManifest(ctx, clinic, []byte("manifesT"), sig); err != nil || ok {
		t.Fatalf("a changed manifest verified: %v %v", ok, err)
	}

	trail := audit.NewChain(audit.NewBucket(store), limited, discardLogger(), nil)
	if err := trail.Record(ctx, recordvault.AuditEvent{Actor: "dr-lee", Clinic: clinic, Action: "read_record", Allowed: true, Rule: "r"}); err != nil {
		t.Fatalf("record an audit event with the policy: %v", err)
	}
	if head, err := audit.NewChain(audit.NewBucket(store), limited, discardLogger(), nil).Verify(ctx, clinic, nil); err != nil || head.Events != 1 {
		t.Fatalf("verify the audit chain with the policy: %+v, %v", head, err)
	}

	// Everything it must not do, through Vault's own API with the same token.
	api, err := shared.vault.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	api.SetToken(tok.Auth.ClientToken)
	own, other := records.KeyName(clinic, recordvault.ProgressNote), records.KeyName(otherClinic, recordvault.ProgressNote)
	refused := []struct {
		name, method, path string
		data               map[string]any
	}{
		{"export own key", "GET", "transit/export/encryption-key/" + own, nil},
		{"backup own key", "GET", "transit/backup/" + own, nil},
		{"make own key exportable", "POST", "transit/keys/" + own + "/config", map[string]any{"exportable": true}},
		{"allow deleting own key", "POST", "transit/keys/" + own + "/config", map[string]any{"deletion_allowed": true}},
		{"trim own key", "POST", "transit/keys/" + own + "/trim", map[string]any{"min_available_version": 2}},
		{"export the signing key", "GET", "transit/export/signing-key/" + disclosure.SigningKeyName(clinic), nil},
		{"make the signing key exportable", "POST", "transit/keys/" + disclosure.SigningKeyName(clinic) + "/config", map[string]any{"exportable": true}},
		{"sign with a data key", "POST", "transit/sign/" + own + "/sha2-256", map[string]any{"input": "eA=="}},
		{"sign with other clinic's key", "POST", "transit/sign/" + disclosure.SigningKeyName(otherClinic) + "/sha2-256", map[string]any{"input": "eA=="}},
		{"create an exportable signing key", "POST", "transit/keys/rv-" + clinic + "-extra3", map[string]any{"type": "ecdsa-p256", "exportable": true}},
		{"trim the disclosure key", "POST", "transit/keys/" + disclosure.KeyName(clinic) + "/trim", map[string]any{"min_available_version": 2}},
		{"delete own key", "DELETE", "transit/keys/" + own, nil},
		{"create an exportable key", "POST", "transit/keys/rv-" + clinic + "-extra", map[string]any{"type": "aes256-gcm96", "derived": true, "exportable": true}},
		{"create a convergent key", "POST", "transit/keys/rv-" + clinic + "-extra2", map[string]any{"type": "aes256-gcm96", "derived": true, "exportable": false, "convergent_encryption": true}},
		{"read other clinic's key", "GET", "transit/keys/" + other, nil},
		{"data key from other clinic's key", "POST", "transit/datakey/plaintext/" + other, map[string]any{"context": "eA=="}},
		{"decrypt with other clinic's key", "POST", "transit/decrypt/" + other, map[string]any{"ciphertext": "vault:v1:AAAA", "context": "eA=="}},
		{"rotate other clinic's key", "POST", "transit/keys/" + other + "/rotate", nil},
		{"export other clinic's key", "GET", "transit/export/encryption-key/" + other, nil},
		{"list keys", "LIST", "transit/keys", nil},
		{"hmac with a category key", "POST", "transit/hmac/" + own + "/sha2-256", map[string]any{"input": "eA=="}},
		{"hmac with other clinic's index key", "POST", "transit/hmac/" + clinicpkg.IndexKeyName(otherClinic) + "/sha2-256", map[string]any{"input": "eA=="}},
		{"verify guesses against the index key", "POST", "transit/verify/" + clinicpkg.IndexKeyName(clinic), map[string]any{"input": "eA==", "hmac": "vault:v1:AAAA"}},
		{"retire the index key's version 1", "POST", "transit/keys/" + clinicpkg.IndexKeyName(clinic) + "/config", map[string]any{"min_decryption_version": 2}},
		{"hmac with other clinic's state key", "POST", "transit/hmac/" + clinicpkg.StateKeyName(otherClinic) + "/sha2-256", map[string]any{"input": "eA=="}},
		{"retire the state key's version 1", "POST", "transit/keys/" + clinicpkg.StateKeyName(clinic) + "/config", map[string]any{"min_decryption_version": 2}},
		{"trim the state key", "POST", "transit/keys/" + clinicpkg.StateKeyName(clinic) + "/trim", map[string]any{"min_available_version": 2}},
		{"export the audit signing key", "GET", "transit/export/signing-key/" + audit.SigningKeyName(clinic), nil},
		{"sign with other clinic's audit key", "POST", "transit/sign/" + audit.SigningKeyName(otherClinic) + "/sha2-256", map[string]any{"input": "eA=="}},
		{"read policies", "GET", "sys/policies/acl/rv-" + clinic, nil},
	}
	for _, r := range refused {
		req := api.NewRequest(r.method, "/v1/"+r.path)
		if r.data != nil {
			if err := req.SetJSONBody(r.data); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := api.RawRequestWithContext(ctx, req)
		if resp != nil {
			resp.Body.Close()
		}
		if err == nil || resp == nil || resp.StatusCode != 403 {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.Errorf("%s: status %d, err %v; want 403", r.name, status, err)
		}
	}
	if err := limited.ProvisionClinic(ctx, otherClinic); err == nil {
		t.Error("provisioning another clinic with this policy succeeded")
	}
}

// appRoleFor mounts an AppRole auth method for clinic, with a role holding the deployed policy
// and tokens of the given TTLs, and returns the role's path and a login with a fresh secret id.
func appRoleFor(ctx context.Context, t *testing.T, root *vaultapi.Client, clinic, ttl, maxTTL string) (string, *vault.AppRole) {
	t.Helper()
	installPolicy(t, root, clinic, "rv-approle-"+clinic)
	mount := "approle-" + clinic
	if err := root.Sys().EnableAuthWithOptionsWithContext(ctx, mount, &vaultapi.EnableAuthOptions{Type: "approle"}); err != nil {
		t.Fatal(err)
	}
	rolePath := "auth/" + mount + "/role/recordvault"
	if _, err := root.Logical().WriteWithContext(ctx, rolePath, map[string]any{
		"token_policies": []string{"rv-approle-" + clinic}, "token_ttl": ttl, "token_max_ttl": maxTTL,
	}); err != nil {
		t.Fatal(err)
	}
	roleID, err := root.Logical().ReadWithContext(ctx, rolePath+"/role-id")
	if err != nil {
		t.Fatal(err)
	}
	secretID, err := root.Logical().WriteWithContext(ctx, rolePath+"/secret-id", nil)
	if err != nil {
		t.Fatal(err)
	}
	return rolePath, &vault.AppRole{Mount: mount, RoleID: roleID.Data["role_id"].(string), SecretID: secretID.Data["secret_id"].(string)}
}

// When an operator revokes the service's token (here: every token its AppRole issued), the
// next call fails as unavailable (a 503 to the request), not as a refusal, and the client logs
// in again at once rather than at its next renewal, an hour away.
func TestRevokedTokenLogsInAgain(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root, err := shared.vault.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clinic := newID()
	_, role := appRoleFor(ctx, t, root, clinic, "1h", "2h")
	addr, _ := shared.vault.Addr(ctx)
	c, err := vault.New(vault.Config{Addr: addr, AppRole: role})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx, testLogger(t)); err != nil {
		t.Fatal(err)
	}
	if err := c.ProvisionClinic(ctx, clinic); err != nil {
		t.Fatal(err)
	}
	key := transit.Name(clinic, transit.State)
	if _, err := c.HMAC(ctx, key, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := root.Sys().RevokePrefixWithContext(ctx, "auth/"+role.Mount+"/login"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HMAC(ctx, key, []byte("x")); !errors.Is(err, recordvault.ErrUnavailable) {
		t.Fatalf("a call on the revoked token: %v; want unavailable", err)
	}
	eventually(t, 10*time.Second, "the client logs in again", func() bool {
		_, err := c.HMAC(ctx, key, []byte("x"))
		return err == nil
	})
}

// With AppRole, the client logs in, renews, and logs in again when its token reaches its
// max TTL: it keeps working well past the lifetime of any single token.
func TestAppRoleLoginRenewAndRelogin(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root, err := shared.vault.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clinic := newID()
	rolePath, role := appRoleFor(ctx, t, root, clinic, "3s", "6s")
	addr, _ := shared.vault.Addr(ctx)
	c, err := vault.New(vault.Config{Addr: addr, AppRole: role})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ready(ctx); err == nil {
		t.Fatal("ready before login")
	}
	if err := c.Start(ctx, testLogger(t)); err != nil {
		t.Fatal(err)
	}
	// 13 s is over two max TTLs: no token from a single login lives that long. Vault's own
	// clock runs the TTLs, so the watch is in real time, polled twice a second.
	const watch = 13 * time.Second
	deadline := time.Now().Add(watch)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		if err := c.Ready(ctx); err != nil {
			t.Fatalf("after %v: %v", watch-time.Until(deadline), err)
		}
		<-tick.C
	}
	bad, err := vault.New(vault.Config{Addr: addr, AppRole: &vault.AppRole{Mount: role.Mount, RoleID: "nope", SecretID: "nope"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := bad.Start(ctx, discardLogger()); err == nil {
		t.Fatal("start with a wrong secret succeeded")
	}

	// A secret id delivered response-wrapped: unwrapped once at start; the same wrapping token
	// a second time (intercepted and used, or replayed) stops the start.
	wrapper, err := root.Clone()
	if err != nil {
		t.Fatal(err)
	}
	wrapper.SetToken(root.Token())
	wrapper.SetWrappingLookupFunc(func(string, string) string { return "60s" })
	wrapped, err := wrapper.Logical().WriteWithContext(ctx, rolePath+"/secret-id", nil)
	if err != nil || wrapped.WrapInfo == nil {
		t.Fatalf("a wrapped secret id: %+v, %v", wrapped, err)
	}
	start := func() error {
		c, err := vault.New(vault.Config{Addr: addr, AppRole: &vault.AppRole{Mount: role.Mount,
			RoleID: role.RoleID, SecretID: wrapped.WrapInfo.Token, Wrapped: true}})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(ctx, discardLogger()); err != nil {
			return err
		}
		return c.Ready(ctx)
	}
	if err := start(); err != nil {
		t.Fatalf("a start with the wrapped secret id: %v", err)
	}
	if err := start(); err == nil {
		t.Fatal("the wrapping token worked twice")
	}
}
