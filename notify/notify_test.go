package notify

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recordvault/recordvault"
)

// smtpServer is a minimal SMTP server for one message: enough of RFC 5321 for a client, and
// STARTTLS (RFC 3207) with tlsConfig when it is not nil. got has the transcript of what was
// said after the last EHLO, and "STARTTLS" first when the session was upgraded.
func smtpServer(t *testing.T, tlsConfig *tls.Config) (addr string, got <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer func() { conn.Close() }()
		r, w := bufio.NewReader(conn), io.Writer(conn)
		io.WriteString(w, "220 test ESMTP\r\n")
		var transcript strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				out <- transcript.String()
				return
			}
			cmd := strings.ToUpper(strings.TrimSpace(line))
			switch {
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				if tlsConfig != nil {
					io.WriteString(w, "250-test\r\n250 STARTTLS\r\n")
				} else {
					io.WriteString(w, "250 test\r\n")
				}
			case cmd == "STARTTLS" && tlsConfig != nil:
				io.WriteString(w, "220 go ahead\r\n")
				tc := tls.Server(conn, tlsConfig)
				if err := tc.Handshake(); err != nil {
					out <- transcript.String()
					return
				}
				conn, r, w = tc, bufio.NewReader(tc), tc
				transcript.WriteString("STARTTLS\r\n")
			case strings.HasPrefix(cmd, "DATA"):
				io.WriteString(w, "354 go on\r\n")
				for {
					l, err := r.ReadString('\n')
					if err != nil || l == ".\r\n" {
						break
					}
					transcript.WriteString(l)
				}
				io.WriteString(w, "250 queued\r\n")
			case strings.HasPrefix(cmd, "QUIT"):
				io.WriteString(w, "221 bye\r\n")
				out <- transcript.String()
				return
			default:
				transcript.WriteString(line)
				io.WriteString(w, "250 ok\r\n")
			}
		}
	}()
	return ln.Addr().String(), out
}

// testTLS is a server certificate for 127.0.0.1 and a client configuration that trusts it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv.TLS.Clone(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

var code = Message{To: "records@smith-law.example", Subject: "Your code", Body: "Your code is 12345678."}

// By default a code goes only over STARTTLS: sent when the server offers it, refused (nothing
// said after EHLO) when it does not; plain SMTP is for a development relay marked so.
func TestSMTPSendsOverTLSOnly(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	addr, got := smtpServer(t, serverTLS)
	if err := (SMTP{Addr: addr, From: "vault@clinic.example", TLSConfig: clientTLS}).Send(context.Background(), code); err != nil {
		t.Fatal(err)
	}
	msg := <-got
	for _, want := range []string{"STARTTLS", "MAIL FROM:<vault@clinic.example>", "RCPT TO:<records@smith-law.example>", "Subject: Your code\r\n",
		"To: <records@smith-law.example>\r\n", "Your code is 12345678."} {
		if !strings.Contains(msg, want) {
			t.Errorf("the server got no %q in:\n%s", want, msg)
		}
	}

	addr, got = smtpServer(t, nil)
	err := (SMTP{Addr: addr, From: "vault@clinic.example"}).Send(context.Background(), code)
	if err == nil || strings.Contains(err.Error(), code.To) || !errors.Is(err, recordvault.ErrUnavailable) {
		t.Fatalf("a server without STARTTLS: %v, want a refusal that does not name the recipient", err)
	}
	if msg := <-got; strings.Contains(msg, "12345678") || strings.Contains(msg, "RCPT") {
		t.Fatalf("the code went out in clear text:\n%s", msg)
	}

	addr, got = smtpServer(t, nil)
	if err := (SMTP{Addr: addr, From: "vault@clinic.example", Security: PlainDevelopment}).Send(context.Background(), code); err != nil {
		t.Fatal(err)
	}
	if msg := <-got; !strings.Contains(msg, "Your code is 12345678.") {
		t.Fatalf("the development relay got:\n%s", msg)
	}
	if err := (SMTP{Addr: addr, From: "vault@clinic.example"}).Send(context.Background(), Message{To: "a@b.example\r\nBcc: evil@example.com", Subject: "x", Body: "x"}); err == nil {
		t.Error("a header injection was sent")
	}
}

// A server that accepts and never greets fails the send within the notifier's timeout.
func TestSMTPTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = (SMTP{Addr: ln.Addr().String(), From: "vault@clinic.example", Timeout: 300 * time.Millisecond}).Send(ctx, code)
	if err == nil || ctx.Err() != nil {
		t.Fatalf("a silent server: %v (the test's bound: %v)", err, ctx.Err())
	}
}

func TestParseSecurity(t *testing.T) {
	for v, want := range map[string]Security{"": STARTTLS, "starttls": STARTTLS, "implicit": ImplicitTLS, "off-development": PlainDevelopment} {
		if got, err := ParseSecurity(v); err != nil || got != want {
			t.Errorf("ParseSecurity(%q) = %q, %v", v, got, err)
		}
	}
	for _, v := range []string{"off", "none", "STARTTLS", "tls"} {
		if _, err := ParseSecurity(v); err == nil {
			t.Errorf("ParseSecurity(%q) accepted", v)
		}
	}
}

func TestMailboxAndUnconfigured(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mailbox.txt")
	var logs strings.Builder
	b := &Mailbox{Path: path, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	for _, code := range []string{"11111111", "22222222"} {
		if err := b.Send(context.Background(), Message{To: "x@example.org", Subject: "code", Body: "code " + code}); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(data), "code 11111111") || !strings.Contains(string(data), "code 22222222") {
		t.Fatalf("mailbox: %v %q", err, data)
	}
	if !strings.Contains(logs.String(), "DEVELOPMENT ONLY") || strings.Contains(logs.String(), "1111") {
		t.Errorf("the log line: %q", logs.String())
	}
	if err := (Unconfigured{}).Send(context.Background(), Message{To: "x@example.org"}); err == nil {
		t.Error("a deployment without a notifier sent a message")
	}
}
