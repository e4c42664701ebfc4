//go:build integration

package rvtest_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/recordvault/recordvault/rvtest"
	"github.com/recordvault/recordvault/sdk"
)

func TestMain(m *testing.M) {
	rvtest.Configure() // this machine kind: no Ryuk, containers on localhost
	os.Exit(m.Run())
}

// The test an integrator copies into their CI: a real recordvault (with its Vault, MinIO and
// development issuer, from `make images`), a client taken in, a note written, read back and
// released to the client through the Go client, and an unknown record refused.
func TestWithARealRecordvault(t *testing.T) {
	ctx := context.Background()
	stack, err := rvtest.Start(ctx)
	t.Cleanup(func() { _ = stack.Terminate(context.Background()) })
	if err != nil {
		t.Fatal(err)
	}
	admin, err := stack.Client("admin-kim")
	if err != nil {
		t.Fatal(err)
	}
	lee, err := stack.Client("dr-lee")
	if err != nil {
		t.Fatal(err)
	}
	var in sdk.CreateClientJSONRequestBody
	in.Identity.FullName = "Jo Example"
	if err := in.Identity.DateOfBirth.UnmarshalText([]byte("1990-04-01")); err != nil {
		t.Fatal(err)
	}
	in.CareTeam = &[]string{"dr-lee"}
	created, err := admin.CreateClientWithResponse(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	client := *created.JSON201.Id
	sign := true
	note, err := lee.CreateRecordWithResponse(ctx, client, sdk.NewRecord{Category: sdk.NewRecordCategoryProgressNote, Sign: &sign,
		Fields: map[string]any{"date_of_service": "2026-11-20", "start_time": "09:00", "stop_time": "09:50", "modality": "individual",
			"cpt_code": "90834", "diagnosis_codes": []string{"F41.1"}, "plan": "Continue CBT weekly."}})
	if err != nil {
		t.Fatal(err)
	}
	read, err := lee.GetRecordWithResponse(ctx, client, *note.JSON201.Id)
	if err != nil || (*read.JSON200.Fields)["plan"] != "Continue CBT weekly." || *read.JSON200.Status != "signed" {
		t.Fatalf("the note read back: %+v, %v", read, err)
	}
	if _, err := lee.GetRecordWithResponse(ctx, client, "nosuchrecord"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("an unknown record: %v, want sdk.ErrNotFound", err)
	}
	if _, err := admin.LinkAccountWithResponse(ctx, client, sdk.LinkAccountJSONRequestBody{Subject: "client-jo"}); err != nil {
		t.Fatal(err)
	}
	release := sdk.CreateReleaseJSONRequestBody{Document: *note.JSON201.Id, Basis: sdk.ReleaseInputBasisRightOfAccess, Purpose: "Jo's copy"}
	release.Recipient.Kind = sdk.ReleaseInputRecipientKindClient
	r, err := lee.CreateReleaseWithResponse(ctx, client, release)
	if err != nil || *r.JSON201.Status != "approved" {
		t.Fatalf("the release: %+v, %v", r, err)
	}
}
