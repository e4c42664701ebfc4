// Command recordvault-dev runs the development stack (Vault, MinIO and recordvault as local
// processes on loopback) until interrupted. `make dev` builds what it needs and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/recordvault/recordvault/internal/devstack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "recordvault-dev: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var cfg devstack.Config
	flags := flag.NewFlagSet(args[0], flag.ContinueOnError)
	flags.StringVar(&cfg.DataDir, "data", ".dev", "data directory (Vault storage, MinIO objects, development secrets, logs)")
	flags.StringVar(&cfg.VaultBin, "vault-bin", "", "path of the vault binary")
	flags.StringVar(&cfg.MinIOBin, "minio-bin", "", "path of the minio binary")
	flags.StringVar(&cfg.ServerBin, "server-bin", "", "path of the recordvault binary")
	flags.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8080", "address of the recordvault service")
	flags.StringVar(&cfg.OperatorAddr, "operator", "127.0.0.1:8090", "address of the service's operator listener (readiness with reasons)")
	flags.IntVar(&cfg.VaultPort, "vault-port", 8200, "loopback port of Vault")
	flags.IntVar(&cfg.MinIOPort, "minio-port", 9000, "loopback port of MinIO's S3 API")
	flags.IntVar(&cfg.MinIOConsolePort, "minio-console-port", 9001, "loopback port of MinIO's console")
	flags.IntVar(&cfg.IssuerPort, "issuer-port", 8081, "loopback port of the development OIDC issuer")
	flags.StringVar(&cfg.Bucket, "bucket", "recordvault", "bucket for records")
	if err := flags.Parse(args[1:]); err != nil {
		return err
	}
	if cfg.VaultBin == "" || cfg.MinIOBin == "" || cfg.ServerBin == "" {
		return fmt.Errorf("-vault-bin, -minio-bin and -server-bin are required (make dev sets them)")
	}
	return devstack.Run(ctx, cfg, slog.New(slog.NewTextHandler(stdout, nil)), stdout)
}
