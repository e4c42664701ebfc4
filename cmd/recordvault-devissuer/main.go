// Command recordvault-devissuer serves the development OIDC issuer (package devissuer) on its
// own, for the container stack of package rvtest: the demo users of one clinic, and a client
// login for any client-<name>. Development and tests only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/recordvault/recordvault/internal/devissuer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "recordvault-devissuer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet(args[0], flag.ContinueOnError)
	listen := flags.String("listen", "0.0.0.0:8081", "address to serve on")
	url := flags.String("url", "http://issuer:8081", `the issuer's URL, what its tokens carry as "iss"`)
	clinic := flags.String("clinic", "democlinic", "the clinic of the demo users and client logins")
	audience := flags.String("audience", "recordvault", "the audience of its tokens")
	if err := flags.Parse(args[1:]); err != nil {
		return err
	}
	issuer, err := devissuer.New(*url, *audience, devissuer.DemoUsers(*clinic))
	if err != nil {
		return err
	}
	issuer.ClientLogins(*clinic)
	srv := &http.Server{Addr: *listen, Handler: issuer.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Fprintf(stdout, "development issuer %s on %s (development only)\n", *url, *listen)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
