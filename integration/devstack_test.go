//go:build integration

package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// devStack is one `make dev` run under test.
type devStack struct {
	cmd      *exec.Cmd
	url      string
	operator string // the operator listener
	ports    map[string]int
	mu       sync.Mutex
	output   strings.Builder
	pids     map[string]int
	exited   chan struct{}
	running  chan struct{} // closed when the banner is printed
}

var startedLine = regexp.MustCompile(`msg=started name=(\S+) pid=(\d+)`)

// startDev runs `make dev` with free loopback ports and dataDir, in a process group of its own
// so that the test can press Ctrl-C on it, and waits until it says it is running.
func startDev(t *testing.T, dataDir string) *devStack {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	d := &devStack{ports: map[string]int{}, pids: map[string]int{}, exited: make(chan struct{}), running: make(chan struct{})}
	// Vault also takes VAULT_PORT+1 (its cluster listener) once unsealed: keep it for Vault.
	taken := map[int]bool{}
	for _, name := range []string{"vault", "http", "minio", "console", "issuer", "operator"} {
		port := freePort(t)
		for taken[port] {
			port = freePort(t)
		}
		d.ports[name], taken[port] = port, true
		if name == "vault" {
			taken[port+1] = true
		}
	}
	d.url = fmt.Sprintf("http://127.0.0.1:%d", d.ports["http"])
	d.operator = fmt.Sprintf("http://127.0.0.1:%d", d.ports["operator"])
	d.cmd = exec.Command("make", "--no-print-directory", "-C", root, "dev",
		"DATA_DIR="+dataDir, "HTTP_ADDR="+strings.TrimPrefix(d.url, "http://"), "OPERATOR_ADDR="+strings.TrimPrefix(d.operator, "http://"),
		"VAULT_PORT="+strconv.Itoa(d.ports["vault"]), "MINIO_PORT="+strconv.Itoa(d.ports["minio"]),
		"MINIO_CONSOLE_PORT="+strconv.Itoa(d.ports["console"]), "ISSUER_PORT="+strconv.Itoa(d.ports["issuer"]))
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stderr = d.cmd.Stdout
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go d.read(out)
	t.Cleanup(func() {
		d.interrupt()
		select {
		case <-d.exited:
		case <-time.After(30 * time.Second):
			syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("make dev output:\n%s", d.log())
		}
	})
	select {
	case <-d.running:
	case <-d.exited:
		t.Fatalf("make dev exited before running:\n%s", d.log())
	case <-time.After(3 * time.Minute):
		t.Fatalf("make dev not running after 3 minutes:\n%s", d.log())
	}
	return d
}

func (d *devStack) read(out io.Reader) {
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		d.mu.Lock()
		d.output.WriteString(line + "\n")
		if m := startedLine.FindStringSubmatch(line); m != nil {
			d.pids[m[1]], _ = strconv.Atoi(m[2])
		}
		d.mu.Unlock()
		if strings.HasPrefix(line, "recordvault is running at") {
			close(d.running)
		}
	}
	d.cmd.Wait()
	close(d.exited)
}

func (d *devStack) log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.output.String()
}

func (d *devStack) pid(name string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pids[name]
}

// interrupt does what Ctrl-C in a terminal does: SIGINT to the foreground process group.
func (d *devStack) interrupt() { syscall.Kill(-d.cmd.Process.Pid, syscall.SIGINT) }

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}

func processAlive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// `make dev` brings up Vault, MinIO and recordvault; /readyz answers ready; stopping Vault makes
// it answer not ready with the reason; Ctrl-C stops all three. A second run on the same data
// directory finds Vault's keys where the first left them.
func TestMakeDev(t *testing.T) {
	dataDir := t.TempDir()
	d := startDev(t, dataDir)
	for _, name := range []string{"vault", "minio", "recordvault"} {
		if d.pid(name) == 0 || !processAlive(d.pid(name)) {
			t.Fatalf("%s is not running:\n%s", name, d.log())
		}
	}
	if status, checks := readyz(t, d.url); status != http.StatusOK {
		t.Fatalf("readyz: %d %v", status, checks)
	}
	d.checkAuthentication(t)
	d.checkPortal(t)
	d.runREADMEWalkthrough(t, dataDir)
	d.runREADMEWalkthrough(t, dataDir) // again on the same stack: it links a fresh client login each run
	d.checkMetrics(t)

	// A Transit key made now must outlive the stack: Vault keeps its storage in dataDir.
	var sec struct {
		Vault struct {
			RootToken string `json:"root_token"`
		}
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "secrets.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sec); err != nil {
		t.Fatal(err)
	}
	vaultAPI := func() *vaultapi.Client {
		cfg := vaultapi.DefaultConfig()
		cfg.Address = fmt.Sprintf("http://127.0.0.1:%d", d.ports["vault"])
		c, err := vaultapi.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.SetToken(sec.Vault.RootToken)
		return c
	}
	ctx := context.Background()
	if _, err := vaultAPI().Logical().WriteWithContext(ctx, "transit/keys/persisted", map[string]any{"derived": true}); err != nil {
		t.Fatal(err)
	}

	// Stop Vault: readiness must say so, and why.
	if err := syscall.Kill(d.pid("vault"), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitReadyz(t, d.url, http.StatusServiceUnavailable, "stopped vault reported by /readyz")
	checks := waitReadyz(t, d.operator, http.StatusServiceUnavailable, "stopped vault reported by the operator's /readyz")
	// The reason depends on the moment: "vault unreachable" once it is gone, "transit mount
	// not usable" while it shuts down. Either way the Vault check fails and says why.
	if v := checks["vault"]; v == "ok" || !strings.Contains(v, "vault") || checks["storage"] != "ok" {
		t.Fatalf("checks = %v, want the vault check failing with its reason and storage ok", checks)
	}

	// Ctrl-C stops the rest.
	d.interrupt()
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("make dev still running 30s after Ctrl-C:\n%s", d.log())
	}
	for _, name := range []string{"vault", "minio", "recordvault"} {
		if processAlive(d.pid(name)) {
			t.Errorf("%s (pid %d) still alive after Ctrl-C", name, d.pid(name))
		}
	}
	for name, port := range d.ports {
		if listening(port) {
			t.Errorf("port %d (%s) still open after Ctrl-C", port, name)
		}
	}

	// Again, on the same data directory: unsealed with the kept key, the Transit key is there.
	d = startDev(t, dataDir)
	if status, checks := readyz(t, d.url); status != http.StatusOK {
		t.Fatalf("second run readyz: %d %v", status, checks)
	}
	key, err := vaultAPI().Logical().ReadWithContext(ctx, "transit/keys/persisted")
	if err != nil || key == nil {
		t.Fatalf("transit key after restart: %v, %v", key, err)
	}
}

// checkAuthentication gets a token from the development issuer, as the banner shows, and
// calls the API with it and without it.
// checkMetrics: after the walkthroughs, the operator listener's metrics show the requests by
// route, the calls to Vault and S3 by operation, and the audit blocks written; no label
// carries an id.
func (d *devStack) checkMetrics(t *testing.T) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", d.ports["operator"]))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the operator's metrics: %d %v", resp.StatusCode, err)
	}
	text := string(body)
	for _, series := range []string{
		`recordvault_http_request_duration_seconds_count{method="POST",route="/v1/clients/{client}/releases",status="2xx"}`,
		`recordvault_dependency_call_duration_seconds_count{dependency="vault",operation="transit/datakey",outcome="ok"}`,
		`recordvault_dependency_call_duration_seconds_count{dependency="s3",operation="PUT",outcome="ok"}`,
		`recordvault_audit_commit_duration_seconds_count{outcome="ok"}`,
		`recordvault_downloads_in_flight 0`,
	} {
		if !strings.Contains(text, series) {
			t.Errorf("the metrics lack %s", series)
		}
	}
	if id := regexp.MustCompile(`[a-z2-7]{26}`).FindString(text); id != "" {
		t.Errorf("the metrics carry an id: %s", id)
	}
}

// checkPortal: the stack's client portal answers, and its sign-in goes to the development
// issuer's page with PKCE, to come back to the stack's own address.
func (d *devStack) checkPortal(t *testing.T) {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(d.url + "/portal/signin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	to, err := resp.Location()
	if err != nil || resp.StatusCode != http.StatusSeeOther || to.Host != fmt.Sprintf("127.0.0.1:%d", d.ports["issuer"]) || to.Path != "/authorize" ||
		to.Query().Get("code_challenge_method") != "S256" || to.Query().Get("redirect_uri") != d.url+"/portal/callback" {
		t.Fatalf("the portal's sign-in: %d to %v (%v)", resp.StatusCode, to, err)
	}
	page, err := http.Get(to.String())
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusOK {
		t.Fatalf("the issuer's sign-in page: %d", page.StatusCode)
	}
}

func (d *devStack) checkAuthentication(t *testing.T) {
	t.Helper()
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/token?user=dr-lee", d.ports["issuer"]), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("token from the development issuer: %v", err)
	}
	for token, want := range map[string]int{tok.AccessToken: http.StatusOK, "": http.StatusUnauthorized, tok.AccessToken + "x": http.StatusUnauthorized} {
		req, _ := http.NewRequest(http.MethodGet, d.url+"/v1/me", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var who struct{ Subject, Clinic string }
		json.NewDecoder(resp.Body).Decode(&who)
		resp.Body.Close()
		if resp.StatusCode != want || (want == http.StatusOK && (who.Subject != "dr-lee" || who.Clinic != "democlinic")) {
			t.Fatalf("GET /v1/me: %d %+v, want %d", resp.StatusCode, who, want)
		}
	}
}

// runREADMEWalkthrough runs the README's curl walk-through (a clinician takes in a client,
// writes a progress note and reads it back; the client downloads her copy through a release;
// the clinic admin verifies the audit chain) as written, against this stack's ports.
func (d *devStack) runREADMEWalkthrough(t *testing.T, dataDir string) {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	run := func(start string, want ...string) {
		t.Helper()
		_, rest, ok := strings.Cut(string(readme), "```sh\n"+start)
		script, _, ok2 := strings.Cut(rest, "```")
		if !ok || !ok2 {
			t.Fatalf("README has no walk-through block starting with %s", start)
		}
		script = strings.NewReplacer("http://127.0.0.1:8080", d.url,
			"http://127.0.0.1:8081", fmt.Sprintf("http://127.0.0.1:%d", d.ports["issuer"]),
			"$PWD/.dev/bin", filepath.Join(dataDir, "bin")).Replace(start + script)
		out, err := exec.Command("bash", "-euo", "pipefail", "-c", script).CombinedOutput()
		if err != nil {
			t.Fatalf("README walk-through %s: %v\n%s", start, err, out)
		}
		for _, w := range want {
			if !strings.Contains(string(out), w) {
				t.Fatalf("README walk-through %s: no %q in\n%s", start, w, out)
			}
		}
	}
	run("export PATH=", "progress_note, signed, by dr-lee", "plan: Continue CBT weekly.", "%PDF-", "intact: true;")
	run("API=", `"status":"signed"`, `"plan":"Continue CBT weekly."`, "%PDF-", `{"intact":true,`)
}
