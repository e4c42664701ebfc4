package tlsfiles

import (
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/recordvault/recordvault/internal/testcert"
)

// writePair writes a self-signed certificate for name and its key, modified at when.
func writePair(t *testing.T, dir, name string, when time.Time) {
	t.Helper()
	if _, err := testcert.Write(dir, name, when); err != nil {
		t.Fatal(err)
	}
}

// A renewed pair is served from the first handshake after the check interval, without a
// restart; a pair that does not load leaves the one in use.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now().Add(-time.Hour)
	writePair(t, dir, "first.example", t0)
	now := t0
	p, err := Load(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), slog.New(slog.DiscardHandler), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", p.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	}()
	served := func() string {
		t.Helper()
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := served(); got != "first.example" {
		t.Fatalf("serving %q", got)
	}
	writePair(t, dir, "second.example", t0.Add(time.Minute))
	if got := served(); got != "first.example" {
		t.Errorf("before the check interval: %q", got)
	}
	now = now.Add(CheckEvery)
	if got := served(); got != "second.example" {
		t.Errorf("after the renewal: %q", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("half written"), 0o600); err != nil {
		t.Fatal(err)
	}
	now = now.Add(CheckEvery)
	if got := served(); got != "second.example" {
		t.Errorf("after a broken renewal: %q", got)
	}
}
