// Command recordvault-reindex restores a clinic's indexes in the bucket from the records
// themselves: each client's index of homes (the clients under whom the records they share
// with others are stored, which release listings and lookups read instead of every record).
// The service keeps the index as it writes records; this is the repair for an index lost or
// damaged in the bucket, or missing from records written before it existed. It needs the
// bucket's credentials (RECORDVAULT_S3_*, as the service) and no key: it reads manifests,
// whose participants are in the clear, and writes empty markers.
//
//	recordvault-reindex -clinic <id>
//
// It prints {"clinic": ..., "links": n}: the shared records' links it found, each of which
// now has its home in the index.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/recordvault/recordvault/records"
	"github.com/recordvault/recordvault/storage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "recordvault-reindex: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	flags := flag.NewFlagSet(args[0], flag.ContinueOnError)
	clinic := flags.String("clinic", "", "the clinic whose indexes to restore")
	if err := flags.Parse(args[1:]); err != nil {
		return err
	}
	if *clinic == "" {
		return errors.New("-clinic is required")
	}
	cfg, err := storage.ConfigFromEnv(getenv)
	if err != nil {
		return err
	}
	store, err := storage.New(cfg)
	if err != nil {
		return err
	}
	links, err := records.RebuildHomes(ctx, records.NewBucket(store), *clinic)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(struct {
		Clinic string `json:"clinic"`
		Links  int    `json:"links"`
	}{*clinic, links})
}
