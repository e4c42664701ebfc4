// Command recordvault-cli is recordvault's command line for clinic staff and operators
// (package cli): `recordvault-cli --help` lists its commands.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/recordvault/recordvault/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
