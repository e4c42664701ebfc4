package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/recordvault/recordvault/sdk"
)

// Each kind of failure has its exit code, whether the service's answer or the command line's.
func TestExitCodes(t *testing.T) {
	for err, want := range map[error]int{
		&sdk.Error{Status: 404, Code: "not_found"}:    ExitNotFound,
		&sdk.Error{Status: 401, Code: "unauthorized"}: ExitRefused,
		errNotLoggedIn: ExitRefused,
		&sdk.Error{Status: 503, Code: "unavailable"}:  ExitUnavailable,
		&sdk.Error{Status: 429, Code: "rate_limited"}: ExitUnavailable,
		&sdk.Error{Status: 400, Code: "invalid"}:      ExitInvalid,
		&sdk.Error{Status: 413, Code: "too_large"}:    ExitInvalid,
		&sdk.Error{Status: 409, Code: "conflict"}:     ExitConflict,
		&sdk.Error{Status: 500, Code: "internal"}:     ExitFailure,
		usagef("--born: a date"):                      ExitUsage,
		fmt.Errorf("wrapped: %w", usagef("x")):        ExitUsage,
		&url.Error{Op: "Get", URL: "http://127.0.0.1:1/v1/me", Err: errors.New("dial tcp: connection refused")}: ExitUnavailable,
		errors.New("open x.pdf: no such file"): ExitFailure,
	} {
		if got := exitCode(err); got != want {
			t.Errorf("%v: exit %d, want %d", err, got, want)
		}
	}
}

// A command line that is wrong exits 2 before anything is sent; so does one without a login
// after nothing was sent (4), and an expired login is no login.
func TestCommandLineRefusedLocally(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	getenv := func(k string) string {
		return map[string]string{EnvConfigDir: dir, EnvURL: "http://127.0.0.1:1"}[k]
	}
	run := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), args, getenv, nil, &out, &errOut)
		return code, errOut.String()
	}
	for _, args := range [][]string{
		{"records", "show", "only-one"}, {"records", "write", "c1"}, {"clients", "add", "--name", "x", "--born", "05/12/2026"},
		{"nope"}, {"records", "nope"}, {"whoami", "--bogus"},
	} {
		if code, msg := run(args...); code != ExitUsage {
			t.Errorf("%v: exit %d (%s), want %d", args, code, msg, ExitUsage)
		}
	}
	if code, _ := run("whoami"); code != ExitRefused {
		t.Errorf("whoami without a login: exit %d, want %d", code, ExitRefused)
	}
	e := &env{getenv: getenv, now: func() time.Time { return now }}
	if err := e.saveCredentials(credentials{AccessToken: "t", Expiry: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(filepath.Join(dir, credentialsFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the saved login: %v %v, want mode 0600", info, err)
	}
	if _, err := e.tokenSource(); !errors.Is(err, errNotLoggedIn) {
		t.Errorf("an expired login: %v", err)
	}
	if err := e.saveCredentials(credentials{AccessToken: "t", Expiry: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if ts, err := e.tokenSource(); err != nil {
		t.Errorf("a login that lasts: %v", err)
	} else if tok, _ := ts.Token(); tok.AccessToken != "t" {
		t.Errorf("token %q", tok.AccessToken)
	}
}

// Every command says how it is used: --help shows an example for each one that runs.
func TestEveryCommandHasAnExample(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && c.Example == "" && c.Name() != "help" && !strings.HasPrefix(c.CommandPath(), "recordvault-cli completion") && len(c.Commands()) == 0 {
			t.Errorf("%s has no example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := (&env{getenv: func(string) string { return "" }}).commands()
	root.InitDefaultCompletionCmd()
	walk(root)
}

// Shell completion is there for each shell cobra knows.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		var out, errOut bytes.Buffer
		if code := Run(context.Background(), []string{"completion", shell}, func(string) string { return "" }, nil, &out, &errOut); code != ExitOK ||
			!strings.Contains(out.String(), "recordvault-cli") {
			t.Errorf("completion %s: exit %d, %d bytes, %s", shell, code, out.Len(), errOut.String())
		}
	}
}
