//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/recordvault/recordvault"
	"github.com/recordvault/recordvault/cli"
)

var (
	cliOnce sync.Once
	cliBin  string
	cliErr  error
)

// cliBinary builds cmd/recordvault-cli once for the tests that drive it.
func cliBinary(t *testing.T) string {
	t.Helper()
	cliOnce.Do(func() {
		root, err := repoRoot()
		if err != nil {
			cliErr = err
			return
		}
		dir, err := os.MkdirTemp("", "recordvault-cli-")
		if err != nil {
			cliErr = err
			return
		}
		cliBin = filepath.Join(dir, "recordvault-cli")
		out, err := exec.Command("go", "build", "-C", root, "-o", cliBin, "./cmd/recordvault-cli").CombinedOutput()
		if err != nil {
			cliErr = errors.New(string(out))
		}
	})
	if cliErr != nil {
		t.Fatalf("build the CLI: %v", cliErr)
	}
	return cliBin
}

// cliRun is one run of the CLI: its output and exit code.
type cliRun struct {
	stdout, stderr string
	code           int
}

// cliUser runs the CLI against e as a person with their own configuration directory.
type cliUser struct {
	t   *testing.T
	bin string
	env []string
}

func (e *apiEnv) cliUser(t *testing.T, extra ...string) *cliUser {
	return &cliUser{t: t, bin: cliBinary(t), env: append([]string{cli.EnvURL + "=" + e.url, cli.EnvIssuer + "=" + e.issuer.URL(),
		cli.EnvConfigDir + "=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, extra...)}
}

// as is u with the login of user given in RECORDVAULT_TOKEN.
func (e *apiEnv) cliAs(t *testing.T, user string) *cliUser {
	tok, err := e.issuer.Mint(user)
	if err != nil {
		t.Fatal(err)
	}
	return e.cliUser(t, cli.EnvToken+"="+tok)
}

func (u *cliUser) command(args ...string) *exec.Cmd {
	cmd := exec.Command(u.bin, args...)
	cmd.Env = u.env
	return cmd
}

func (u *cliUser) run(args ...string) cliRun {
	u.t.Helper()
	cmd := u.command(args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		u.t.Fatal(err)
	}
	return cliRun{out.String(), errOut.String(), code}
}

// ok runs args and fails the test unless they exit 0; it returns standard output, trimmed.
func (u *cliUser) ok(args ...string) string {
	u.t.Helper()
	r := u.run(args...)
	if r.code != cli.ExitOK {
		u.t.Fatalf("recordvault-cli %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

// The CLI, built and driven as a person would: logged in by the device flow, a client taken
// in, a note written from a file and one in $EDITOR, a PDF attached and downloaded, a
// release asked for and its link issued, the accounting and the audit chain; each failure
// with its documented exit code.
func TestCLIEndToEnd(t *testing.T) {
	e := newAPIEnv(t, map[string][]recordvault.Role{"dr-lee": {recordvault.RoleClinician}, "dr-patel": {recordvault.RoleClinician},
		"admin": {recordvault.RoleClinicAdmin}})
	e.issuer.ClientLogins(e.clinic)
	lee, patel, admin := e.cliUser(t), e.cliAs(t, "dr-patel"), e.cliAs(t, "admin")

	// Not logged in: refused, nothing sent.
	if r := lee.run("whoami"); r.code != cli.ExitRefused {
		t.Fatalf("whoami before login: %+v", r)
	}
	lee.login(t, "dr-lee")
	if got := lee.ok("whoami"); !strings.Contains(got, "dr-lee of clinic "+e.clinic) {
		t.Errorf("whoami: %q", got)
	}

	if got := admin.ok("clinic", "profile", "--name", "Lakeside Counseling", "--contact", "1 Lake St; 555-0100"); !strings.Contains(got, "Lakeside Counseling") {
		t.Errorf("clinic profile: %q", got)
	}
	if got := lee.ok("clinic", "show"); !strings.Contains(got, "contact: 1 Lake St; 555-0100") {
		t.Errorf("clinic show: %q", got)
	}
	if r := lee.run("clinic", "profile", "--name", "Mine now"); r.code != cli.ExitNotFound {
		t.Errorf("a clinician naming the clinic: %+v", r)
	}
	client := admin.ok("clients", "add", "--name", "Jo Example", "--born", "1990-04-01", "--team", "dr-lee,dr-patel")
	if found := admin.ok("clients", "find", "--name", "Jo Example", "--born", "1990-04-01"); found != client {
		t.Errorf("clients find: %q, want %q", found, client)
	}
	dir := t.TempDir()
	noteFile := filepath.Join(dir, "note.json")
	writeJSONFile(t, noteFile, progressNote("cli-canary plan"))
	note := lee.ok("records", "write", client, "--category", "progress_note", "--file", noteFile, "--sign")
	if got := lee.ok("records", "show", client, note); !strings.Contains(got, "plan: cli-canary plan") || !strings.Contains(got, "signed") {
		t.Errorf("records show:\n%s", got)
	}
	var shown map[string]any
	if err := json.Unmarshal([]byte(lee.ok("records", "show", client, note, "--json")), &shown); err != nil || shown["status"] != "signed" {
		t.Errorf("records show --json: %v %v", shown, err)
	}

	// A draft evaluation written in $EDITOR (here a script that fills the template in).
	editor := filepath.Join(dir, "editor.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nprintf '{\"date_of_service\":\"2026-11-20\",\"summary\":\"Assessed in the editor.\"}' > \"$1\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	edited := &cliUser{t: t, bin: lee.bin, env: append(slices.Clone(lee.env), "EDITOR="+editor)}
	evaluation := edited.ok("records", "write", client, "--category", "evaluation")
	pdf := append([]byte("%PDF-1.7\n"), randomBytes(3<<20)...)
	pdfFile := filepath.Join(dir, "evaluation.pdf")
	if err := os.WriteFile(pdfFile, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	r := lee.run("records", "attach", client, evaluation, pdfFile)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("attach, output not a terminal: %+v (no progress bar expected)", r)
	}
	attachment := strings.TrimSpace(r.stdout)
	lee.ok("records", "sign", client, evaluation)
	back := filepath.Join(dir, "back.pdf")
	lee.ok("records", "download", client, evaluation, attachment, "-o", back)
	if got, err := os.ReadFile(back); err != nil || !bytes.Equal(got, pdf) {
		t.Fatalf("the attachment downloaded: %d bytes, %v; want the %d sent", len(got), err, len(pdf))
	}
	if info, err := os.Stat(back); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("the downloaded file's mode: %v %v, want 0600", info.Mode(), err)
	}

	// A release to the client, its link issued.
	admin.ok("clients", "link", client, "client-jo-cli")
	release := lee.ok("releases", "request", client, "--document", note, "--basis", "right_of_access", "--recipient", "client", "--purpose", "Jo's copy", "--json")
	var rel struct{ ID, Status string }
	if err := json.Unmarshal([]byte(release), &rel); err != nil || rel.Status != "approved" {
		t.Fatalf("releases request: %s (%v)", release, err)
	}
	jo := e.cliAs(t, "client-jo-cli")
	link := jo.ok("releases", "link", client, rel.ID)
	if !strings.Contains(link, e.url+"/r#t=") {
		t.Errorf("releases link: %q", link)
	}
	// Jo downloads her copy; the clinic confirms it by the code on its certification.
	token := strings.TrimPrefix(strings.Split(link, "\n")[1], "token ")
	copyFile := filepath.Join(dir, "copy.json")
	jo.ok("downloads", "get", token, "--format", "json", "-o", copyFile)
	var certified struct{ Certification struct{ Code string } }
	if raw, err := os.ReadFile(copyFile); err != nil || json.Unmarshal(raw, &certified) != nil || certified.Certification.Code == "" {
		t.Fatalf("the downloaded copy: %v, %s", err, raw)
	}
	if got := admin.ok("downloads", "verify", certified.Certification.Code); !strings.Contains(got, "release "+rel.ID+" of document "+note) ||
		!strings.Contains(got, "still holds exactly this content") {
		t.Errorf("downloads verify: %q", got)
	}
	if r := admin.run("downloads", "verify", recordvault.CertificationCode("never issued")); r.code != cli.ExitNotFound {
		t.Errorf("downloads verify of an unknown code: %+v", r)
	}
	if got := lee.ok("releases", "list", client); !strings.Contains(got, rel.ID) {
		t.Errorf("releases list: %q", got)
	}
	lee.ok("accounting", client)

	// An addendum; a reviewable denial, reviewed by another licensed clinician; a release the
	// rules sent for review, resolved by the admin. The last two from --file.
	addendum := lee.ok("records", "addendum", client, note, "--text", "Late entry: called the client.", "--concerns", "plan")
	if got := lee.ok("records", "show", client, note); !strings.Contains(got, "addendum "+addendum+": Late entry: called the client.") {
		t.Errorf("the addendum in records show:\n%s", got)
	}
	amendment := strings.SplitN(lee.ok("amendments", "request", client, note, "--received", time.Now().UTC().Format(time.DateOnly),
		"--change", "The session was 45 minutes, not 50.", "--concerns", "stop_time"), "\n", 2)[0]
	if got := lee.ok("amendments", "decide", client, note, amendment, "--deny", "accurate_and_complete", "--explanation", "The session log shows 50 minutes."); !strings.Contains(got, "denied") {
		t.Errorf("amendments decide: %q", got)
	}
	lee.ok("amendments", "disagree", client, note, amendment, "--statement", "I left early.")
	lee.ok("amendments", "rebut", client, note, amendment, "--text", "The log shows 50 minutes.")
	if got := lee.ok("records", "show", client, note); !strings.Contains(got, "amendment request "+amendment) {
		t.Errorf("the amendment request in records show:\n%s", got)
	}
	risky := progressNote("weekly CBT")
	risky["risk_assessment"] = "passive ideation about a family member"
	writeJSONFile(t, noteFile+".risky", risky)
	riskyNote := lee.ok("records", "write", client, "--category", "progress_note", "--file", noteFile+".risky", "--sign")
	denialFile := filepath.Join(dir, "denial.json")
	writeJSONFile(t, denialFile, map[string]any{"document": riskyNote, "basis": "right_of_access", "recipient": map[string]string{"kind": "client"},
		"purpose": "client's request", "denial": map[string]any{"ground": "endangerment", "fields": []string{"risk_assessment"}}})
	denied := strings.SplitN(lee.ok("releases", "request", client, "--file", denialFile), "\n", 2)[0]
	if got := patel.ok("releases", "review", client, denied, "--uphold"); !strings.HasPrefix(got, denied+"\n") {
		t.Errorf("releases review: %q", got)
	}
	if r := patel.run("releases", "review", client, denied, "--uphold", "--overturn"); r.code != cli.ExitUsage {
		t.Errorf("review both ways: %+v", r)
	}
	sudFile := filepath.Join(dir, "sud.json")
	writeJSONFile(t, sudFile, map[string]any{"date_of_service": "2026-10-01", "note": "withdrawal risk"})
	sud := lee.ok("records", "write", client, "--category", "sud_record", "--file", sudFile, "--sign")
	threatFile := filepath.Join(dir, "threat.json")
	writeJSONFile(t, threatFile, map[string]any{"basis": "serious_threat", "fields": []string{"note"}, "purpose": "emergency",
		"attestation": map[string]bool{"good_faith": true},
		"recipient":   map[string]string{"kind": "provider", "id": "er-1", "email": "er-1@recipients.example", "name": "County ER"}})
	pending := lee.ok("releases", "request", client, "--file", threatFile, "--document", sud)
	if !strings.Contains(pending, "needs_review") {
		t.Fatalf("a Part 2 record to avert a threat: %q, want needs_review", pending)
	}
	pendingID := strings.SplitN(pending, "\n", 2)[0]
	if got := admin.ok("waiting"); !strings.Contains(got, "release "+pendingID+" of record "+sud+" of "+client+" (Jo Example): awaits resolution") {
		t.Errorf("waiting: %q", got)
	}
	if got := admin.ok("releases", "resolve", client, pendingID, "--approve", "--reason", "bona fide medical emergency"); !strings.Contains(got, "approved") {
		t.Errorf("releases resolve: %q", got)
	}

	// An access request on its clock, answered by that release.
	request := strings.SplitN(admin.ok("access-requests", "add", client, "--received", time.Now().UTC().Format(time.DateOnly),
		"--description", "her progress note", "--by", "client"), "\n", 2)[0]
	if got := admin.ok("access-requests", "list", client); !strings.Contains(got, request) || !strings.Contains(got, "open, received") {
		t.Errorf("access-requests list: %q", got)
	}
	if got := admin.ok("access-requests", "answer", client, request, "--releases", rel.ID); !strings.Contains(got, "answered") {
		t.Errorf("access-requests answer: %q", got)
	}

	// A court order from a file, its manifest's signature checked.
	orderFile := filepath.Join(dir, "order.json")
	writeJSONFile(t, orderFile, map[string]any{"court": "Circuit Court, No. 2026-D-123", "issued": "2026-11-01", "purpose": "custody proceeding",
		"recipient":  map[string]string{"kind": "attorney", "id": "smith-law", "email": "smith-law@recipients.example", "name": "Smith Law LLP"},
		"categories": []string{"progress_note"}, "from": "2026-01-01", "to": "2026-12-31"})
	var order struct {
		ID, Manifest, Signature string
		Releases                []string
	}
	if err := json.Unmarshal([]byte(admin.ok("court-orders", "record", client, "--file", orderFile, "--json")), &order); err != nil || len(order.Releases) != 2 { // both progress notes; the evaluation and the Part 2 record are outside its categories
		t.Fatalf("court-orders record: %+v %v", order, err)
	}
	manifest := filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(manifest, []byte(order.Manifest), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := admin.ok("court-orders", "verify", "--manifest", manifest, "--signature", order.Signature); !strings.Contains(got, "valid") {
		t.Errorf("court-orders verify: %q", got)
	}
	if err := os.WriteFile(manifest, []byte(strings.Replace(order.Manifest, "smith-law", "smyth-law", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := admin.run("court-orders", "verify", "--manifest", manifest, "--signature", order.Signature); r.code != cli.ExitFailure {
		t.Errorf("court-orders verify of an altered manifest: %+v", r)
	}
	if got := admin.ok("releases", "revoke", client, order.Releases[0], "--reason", "order stayed on appeal"); !strings.Contains(got, "revoked") {
		t.Errorf("releases revoke: %q", got)
	}

	if got := admin.ok("audit", "verify"); !strings.Contains(got, "intact: true") {
		t.Errorf("audit verify: %q", got)
	}

	// The key lifecycle: rotate the progress notes' key (every note rewrapped), retire the old
	// version; the notes still read. A clinician may not.
	if got := admin.ok("keys", "rotate", "progress_note"); !strings.Contains(got, "progress_note key: version 2 wraps new data keys") ||
		!strings.Contains(got, "data keys rewrapped") {
		t.Errorf("keys rotate: %q", got)
	}
	if got := admin.ok("keys", "retire", "progress_note", "--min-version", "2"); !strings.Contains(got, "versions below 2 retired") {
		t.Errorf("keys retire: %q", got)
	}
	if got := lee.ok("records", "show", client, note); !strings.Contains(got, "plan:") {
		t.Errorf("the note after the rotation and retirement:\n%s", got)
	}
	if r := lee.run("keys", "rotate", "progress_note"); r.code != cli.ExitNotFound {
		t.Errorf("a clinician rotating a key: %+v", r)
	}

	// Exit codes.
	for _, tc := range []struct {
		name string
		user *cliUser
		args []string
		want int
	}{
		{"an unknown record", lee, []string{"records", "show", client, newID()}, cli.ExitNotFound},
		{"a signed record changed", lee, []string{"records", "sign", client, note}, cli.ExitConflict},
		{"an unknown category", lee, []string{"records", "write", client, "--category", "diary", "--file", noteFile}, cli.ExitInvalid},
		{"a missing flag", lee, []string{"records", "write", client}, cli.ExitUsage},
		{"an unknown command", lee, []string{"records", "erase", client}, cli.ExitUsage},
		{"the service down", &cliUser{t: t, bin: lee.bin, env: append(slices.Clone(lee.env), cli.EnvURL+"=http://127.0.0.1:1")}, []string{"whoami"}, cli.ExitUnavailable},
	} {
		if r := tc.user.run(tc.args...); r.code != tc.want || !strings.HasPrefix(r.stderr, "recordvault-cli: ") {
			t.Errorf("%s: exit %d, %q; want %d", tc.name, r.code, r.stderr, tc.want)
		}
	}

	// On a terminal, transfers over 1 MiB show their progress.
	for _, args := range [][]string{{"records", "download", client, evaluation, attachment, "-o", filepath.Join(dir, "again.pdf")}} {
		if out := lee.onTerminal(t, args...); !strings.Contains(out, "downloading") || !strings.Contains(out, "100%") {
			t.Errorf("%s on a terminal: %q", args[1], out)
		}
	}
	draft := edited.ok("records", "write", client, "--category", "evaluation")
	out := lee.onTerminal(t, "records", "attach", client, draft, pdfFile)
	if !strings.Contains(out, "uploading") || !strings.Contains(out, "100%") {
		t.Errorf("attach on a terminal: %q", out)
	}
}

// login runs `login`, approves its code as user at the development issuer, and waits.
func (u *cliUser) login(t *testing.T, user string) {
	t.Helper()
	cmd := u.command("login")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`enter the code (\S+)\)`)
	lines := bufio.NewScanner(stderr)
	var userCode, verify string
	for lines.Scan() {
		if m := code.FindStringSubmatch(lines.Text()); m != nil {
			userCode = m[1]
		}
		if strings.HasPrefix(lines.Text(), "To log in, open ") {
			verify = strings.TrimPrefix(lines.Text(), "To log in, open ")
		}
		if userCode != "" {
			break
		}
	}
	go io.Copy(io.Discard, stderr)
	if userCode == "" || verify == "" {
		t.Fatalf("login printed no code")
	}
	page, err := url.Parse(verify)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(page.Scheme+"://"+page.Host+"/device", url.Values{"user_code": {userCode}, "user": {user}})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("approve the code: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := cmd.Wait(); err != nil || !strings.HasPrefix(out.String(), "Logged in until ") {
		t.Fatalf("login: %v %q", err, out.String())
	}
	var dir string
	for _, kv := range u.env {
		if v, ok := strings.CutPrefix(kv, cli.EnvConfigDir+"="); ok {
			dir = v
		}
	}
	info, err := os.Stat(filepath.Join(dir, "credentials.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the saved login: %v, %v; want mode 0600", info, err)
	}
}

// onTerminal runs args with standard error on a pseudo-terminal and returns what it showed.
func (u *cliUser) onTerminal(t *testing.T, args ...string) string {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	cmd := u.command(args...)
	cmd.Stderr = tty
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var shown bytes.Buffer
	_, _ = io.Copy(&shown, ptmx) // until the process ends (EIO)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v on a terminal: %v\n%s", args, err, shown.String())
	}
	return shown.String()
}

func writeJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
