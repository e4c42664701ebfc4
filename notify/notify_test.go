package notify

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// smtpServer is a minimal SMTP server for one message: enough of RFC 5321 for net/smtp.
func smtpServer(t *testing.T) (addr string, got <-chan string) {
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
		defer conn.Close()
		r, w := bufio.NewReader(conn), conn
		io.WriteString(w, "220 test ESMTP\r\n")
		var transcript strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.ToUpper(strings.TrimSpace(line))
			switch {
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				io.WriteString(w, "250 test\r\n")
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

func TestSMTPSends(t *testing.T) {
	addr, got := smtpServer(t)
	n := SMTP{Addr: addr, From: "vault@clinic.example"}
	if err := n.Send(context.Background(), Message{To: "records@smith-law.example", Subject: "Your code", Body: "Your code is 12345678."}); err != nil {
		t.Fatal(err)
	}
	msg := <-got
	for _, want := range []string{"MAIL FROM:<vault@clinic.example>", "RCPT TO:<records@smith-law.example>", "Subject: Your code\r\n",
		"To: records@smith-law.example\r\n", "Your code is 12345678."} {
		if !strings.Contains(msg, want) {
			t.Errorf("the server got no %q in:\n%s", want, msg)
		}
	}
	if err := n.Send(context.Background(), Message{To: "a@b.example\r\nBcc: evil@example.com", Subject: "x", Body: "x"}); err == nil {
		t.Error("a header injection was sent")
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
