// Package cli is recordvault's command line, for clinic staff and operators, built on the Go
// client (package sdk) and github.com/spf13/cobra. cmd/recordvault-cli only wires it to the
// process.
//
// It logs in by the OIDC device authorization flow (login) and keeps the token in the user's
// configuration directory, readable by the user alone; RECORDVAULT_TOKEN overrides it. Every
// command prints a short human answer, or with --json the service's own JSON. Uploads and
// downloads over 1 MiB show a progress bar on a terminal, nothing otherwise. The exit code
// says what happened (Exit…), so that scripts need not read messages.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/recordvault/recordvault/sdk"
)

// Exit codes, stable: scripts branch on them.
const (
	ExitOK          = 0 // done
	ExitFailure     = 1 // anything not below (a local file unreadable, the service's internal error)
	ExitUsage       = 2 // the command line is wrong: nothing was sent
	ExitNotFound    = 3 // unknown, or not the caller's to know about (the service never tells them apart)
	ExitRefused     = 4 // no valid login (log in again), or the link used up
	ExitUnavailable = 5 // the service or a dependency did not answer: try again later
	ExitInvalid     = 6 // the service refused the input (a rule broken, too large, wrong type)
	ExitConflict    = 7 // the resource changed meanwhile, exists already, or never changes (signed)
)

// Environment the command line reads.
const (
	EnvURL       = "RECORDVAULT_URL"        // the service; DefaultURL when unset
	EnvIssuer    = "RECORDVAULT_ISSUER"     // the OIDC issuer login uses; DefaultIssuer when unset
	EnvToken     = "RECORDVAULT_TOKEN"      // a bearer token to use instead of the saved login
	EnvConfigDir = "RECORDVAULT_CONFIG_DIR" // where the login is kept; the user's configuration directory when unset
	EnvEditor    = "EDITOR"                 // what `records write` opens without --file
)

// Defaults: the development stack of `make dev`.
const (
	DefaultURL    = "http://127.0.0.1:8080"
	DefaultIssuer = "http://127.0.0.1:8081"
)

// env is what a run reads of its process.
type env struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
	json           bool // --json
	now            func() time.Time
	// started: the command line parsed and validated, its command began; an error before is
	// a usage error, whatever cobra calls it.
	started bool
}

// Run runs the command line args (without the program's name) and returns its exit code.
func Run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr, now: time.Now}
	root := e.commands()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "recordvault-cli:", err)
	if !e.started { // cobra's own refusals: an unknown command or flag
		return ExitUsage
	}
	return exitCode(err)
}

// usageError is a wrong command line: nothing was sent.
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitCode is the exit code for err.
func exitCode(err error) int {
	var usage usageError
	switch {
	case errors.As(err, &usage):
		return ExitUsage
	case errors.Is(err, sdk.ErrNotFound):
		return ExitNotFound
	case errors.Is(err, sdk.ErrUnauthorized), errors.Is(err, errNotLoggedIn):
		return ExitRefused
	case errors.Is(err, sdk.ErrUnavailable), errors.Is(err, sdk.ErrTooMany), isNetwork(err):
		return ExitUnavailable
	case errors.Is(err, sdk.ErrInvalid), errors.Is(err, sdk.ErrTooLarge), errors.Is(err, sdk.ErrMediaType), errors.Is(err, sdk.ErrRange):
		return ExitInvalid
	case errors.Is(err, sdk.ErrConflict):
		return ExitConflict
	}
	return ExitFailure
}

// isNetwork reports whether err is the service not answering at all: the HTTP client's
// *url.Error, whatever the network said.
func isNetwork(err error) bool {
	var urlErr *url.Error
	return errors.As(err, &urlErr)
}

// args checks a command's positional arguments and its required flags (requireFlags), as a
// usage error, before anything is sent.
func args(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, got []string) error {
		if len(got) != len(names) {
			return usagef("%s takes %d argument(s): %s", cmd.CommandPath(), len(names), strings.Join(names, " "))
		}
		for _, name := range strings.Fields(cmd.Annotations[requiredFlags]) {
			if !cmd.Flags().Changed(name) {
				return usagef("%s needs --%s", cmd.CommandPath(), name)
			}
		}
		return nil
	}
}

// requiredFlags annotates a command with the flags it cannot run without.
const requiredFlags = "recordvault-cli/required"

// requireFlags marks names required: missing, they are a usage error (args).
func requireFlags(cmd *cobra.Command, names ...string) {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[requiredFlags] = strings.Join(names, " ")
}

// group is a command that only holds others: anything else on its line is a usage error.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, a []string) error {
			if len(a) > 0 {
				return usagef("unknown command %q for %s", a[0], cmd.CommandPath())
			}
			return cmd.Help()
		}}
	cmd.AddCommand(subs...)
	return cmd
}

func (e *env) commands() *cobra.Command {
	root := &cobra.Command{
		Use:   "recordvault-cli",
		Short: "Work with a recordvault service: clients, records, releases, the audit trail",
		Long: `recordvault-cli works with a recordvault service over its HTTP API.

Log in once (the OIDC device flow of the service's identity provider), then work:
the service is ` + EnvURL + ` (default ` + DefaultURL + `, the development stack of make dev).

Exit codes: 0 done, 2 usage, 3 not found, 4 refused (log in again), 5 unavailable
(try again later), 6 invalid input, 7 conflict, 1 anything else.`,
		Example: `  recordvault-cli login
  recordvault-cli clients add --name "Jo Example" --born 1990-04-01
  recordvault-cli records write <client> --category progress_note --file note.json --sign
  recordvault-cli records attach <client> <record> evaluation.pdf
  recordvault-cli releases request <client> --document <record> --basis right_of_access --recipient client --purpose "Jo's copy"`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentPreRun = func(*cobra.Command, []string) { e.started = true }
	root.PersistentFlags().BoolVar(&e.json, "json", false, "print the service's JSON answer instead of a summary")
	root.AddCommand(e.loginCommand(), e.logoutCommand(), e.whoamiCommand(), e.clientsCommand(), e.recordsCommand(),
		e.releasesCommand(), e.downloadsCommand(), e.courtOrdersCommand(), e.accessRequestsCommand(), e.accountingCommand(), e.auditCommand(), e.clinicCommand(), e.amendmentsCommand(),
		e.waitingCommand(), e.keysCommand(), e.sweepCommand())
	return root
}

// service is the client of the configured service, logged in.
func (e *env) service() (*sdk.ClientWithResponses, error) {
	tokens, err := e.tokenSource()
	if err != nil {
		return nil, err
	}
	return sdk.New(e.url(), sdk.WithTokenSource(tokens), sdk.WithHTTP(transferClient()))
}

func (e *env) url() string    { return e.setting(EnvURL, DefaultURL) }
func (e *env) issuer() string { return e.setting(EnvIssuer, DefaultIssuer) }

func (e *env) setting(name, fallback string) string {
	if v := e.getenv(name); v != "" {
		return strings.TrimSuffix(v, "/")
	}
	return fallback
}

// configDir is where the login is kept.
func (e *env) configDir() (string, error) {
	if d := e.getenv(EnvConfigDir); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration directory (set %s): %w", EnvConfigDir, err)
	}
	return filepath.Join(d, "recordvault"), nil
}

// maxAnswer bounds a JSON answer read for printing.
const maxAnswer = 16 << 20

// do sends one request with the logged-in client and prints its answer: the service's JSON
// with --json, else summary of it (whose error, if any, is the command's).
func (e *env) do(send func(c *sdk.ClientWithResponses) (*http.Response, error), summary func(w io.Writer, v map[string]any) error) error {
	c, err := e.service()
	if err != nil {
		return err
	}
	resp, err := send(c)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("the answer: %w", err)
	}
	v := decode(raw)
	if e.json {
		if _, err := fmt.Fprintln(e.stdout, strings.TrimSpace(string(raw))); err != nil {
			return err
		}
		return summary(io.Discard, v)
	}
	return summary(e.stdout, v)
}

// items calls each with every object of list (an answer's "items", say).
func items(list any, each func(m map[string]any)) {
	objects, _ := list.([]any)
	for _, it := range objects {
		if m, ok := it.(map[string]any); ok {
			each(m)
		}
	}
}

// showEach is the summary of a list: show of each of its items, in turn.
func showEach(show func(w io.Writer, v map[string]any) error) func(w io.Writer, v map[string]any) error {
	return func(w io.Writer, v map[string]any) error {
		var err error
		items(v["items"], func(m map[string]any) {
			if err == nil {
				err = show(w, m)
			}
		})
		return err
	}
}

// printID is the summary of an answer that creates something: its id.
func printID(w io.Writer, v map[string]any) error {
	_, err := fmt.Fprintln(w, str(v, "id"))
	return err
}

// decode reads a JSON answer into a generic object for a summary.
func decode(raw []byte) map[string]any {
	var v map[string]any
	_ = json.Unmarshal(raw, &v)
	return v
}

// str is v[key] as text ("" when absent).
func str(v map[string]any, key string) string {
	switch x := v[key].(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
