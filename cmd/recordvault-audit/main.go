// Command recordvault-audit verifies a clinic's audit chain from outside the service, with
// read access to the bucket and the clinic's audit public keys and nothing else: no Vault, no
// service credentials. It prints what it verified as JSON and exits 1 when the chain is
// broken. The keys file is the key's data as Vault returns it:
//
//	vault read -format=json transit/keys/rv-<clinic>-audit-signing > keys.json
//	RECORDVAULT_S3_ENDPOINT=… RECORDVAULT_S3_ACCESS_KEY=… RECORDVAULT_S3_SECRET_KEY=… \
//	  recordvault-audit -clinic <clinic> -keys keys.json [-blocks N -hash H]
//
// With -blocks and -hash (an earlier run's "verified"), a cut or replaced end is reported.
// With -restore, and credentials that may delete object versions, it first puts back the
// genuine version of every block hidden behind a delete marker or newer versions (a bucket
// with Object Lock or versioning keeps it) or stranded by a write the storage refused (a
// version its key does not read: written again), and lists them under "restored".
// Losses the clinic acknowledged (audit.Loss, signed by the same key) are checked and gone
// past, and listed under "verified".
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/recordvault/recordvault/app"
	"github.com/recordvault/recordvault/audit"
	"github.com/recordvault/recordvault/storage"
	"github.com/recordvault/recordvault/vault"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "recordvault-audit: %v\n", err)
		os.Exit(1)
	}
}

// errBroken is run's answer for a chain that is not intact (its details are printed).
var errBroken = errors.New("the audit chain is not intact")

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	flags := flag.NewFlagSet(args[0], flag.ContinueOnError)
	clinic := flags.String("clinic", "", "the clinic whose chain to verify")
	keysFile := flags.String("keys", "", "the audit key's data, from `vault read -format=json transit/keys/rv-<clinic>-audit-signing`")
	blocks := flags.Uint64("blocks", 0, "with -hash: the blocks of an earlier run's verified head")
	hash := flags.String("hash", "", "with -blocks: the hash of an earlier run's verified head")
	restore := flags.Bool("restore", false, "first put back the genuine versions of hidden blocks (needs the right to delete object versions)")
	if err := flags.Parse(args[1:]); err != nil {
		return err
	}
	if *clinic == "" || *keysFile == "" || (*blocks == 0) != (*hash == "") {
		return errors.New("-clinic and -keys are required; -blocks and -hash go together")
	}
	keyData, err := os.ReadFile(*keysFile)
	if err != nil {
		return err
	}
	var read struct{ Data map[string]any }
	dec := json.NewDecoder(bytes.NewReader(keyData))
	dec.UseNumber() // as Vault's client decodes it
	if err := dec.Decode(&read); err != nil {
		return fmt.Errorf("%s: %w", *keysFile, err)
	}
	latest, keys, err := vault.PublicKeys(audit.SigningKeyName(*clinic), read.Data)
	if err != nil {
		return err
	}
	storeCfg, err := storage.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	store, err := storage.New(storeCfg)
	if err != nil {
		return err
	}
	var earlier *audit.Head
	if *blocks > 0 {
		earlier = &audit.Head{Blocks: *blocks, Hash: *hash}
	}
	fixed := func(context.Context) (int, map[int]*ecdsa.PublicKey, error) { return latest, keys, nil }
	var restored []uint64
	if *restore {
		if restored, _, err = audit.Restore(ctx, audit.NewBucket(store), *clinic, fixed); err != nil && !errors.Is(err, audit.ErrBroken) {
			return err // a break no stored version mends is the check's to report
		}
	}
	check, err := app.TrailCheckOf(audit.Verify(ctx, audit.NewBucket(store), *clinic, fixed, earlier))
	if err != nil {
		return err
	}
	out := struct {
		Restored []uint64 `json:"restored,omitempty"`
		*app.TrailCheck
	}{restored, check}
	if err := json.NewEncoder(stdout).Encode(out); err != nil {
		return err
	}
	if !check.Intact {
		return errBroken
	}
	return nil
}
