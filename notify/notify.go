// Package notify delivers messages to recipients' registered addresses: by SMTP in
// production, and to a development mailbox (a file the developer reads) under `make dev`.
// Messages carry no PHI: a one-time code, a release id and the clinic's id.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"net/smtp"
	"os"
	"strings"
	"sync"
	"time"
)

// Message is one message to one address.
type Message struct {
	To, Subject, Body string
}

// Notifier sends messages.
type Notifier interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends through an SMTP server with net/smtp (STARTTLS when the server offers it).
type SMTP struct {
	Addr string // host:port
	From string
	Auth smtp.Auth // nil for none
}

var _ Notifier = SMTP{}

// Send sends m. net/smtp takes no context: the server's own timeouts bound it.
func (s SMTP) Send(_ context.Context, m Message) error {
	if strings.ContainsAny(m.To+m.Subject, "\r\n") {
		return fmt.Errorf("notify: header injection refused")
	}
	msg := "From: " + s.From + "\r\nTo: " + m.To + "\r\nSubject: " + m.Subject +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + m.Body + "\r\n"
	if err := smtp.SendMail(s.Addr, s.Auth, s.From, []string{m.To}, []byte(msg)); err != nil {
		return fmt.Errorf("notify: smtp: %w", err)
	}
	return nil
}

// Mailbox is the development mailbox: each message is appended to a file, and a log line
// marked development-only says where. Never for production: it keeps codes in the clear.
type Mailbox struct {
	Path   string
	Logger *slog.Logger
	mu     sync.Mutex
}

var _ Notifier = (*Mailbox)(nil)

// Send appends m to the mailbox file.
func (b *Mailbox) Send(ctx context.Context, m Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, err := os.OpenFile(b.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("notify: mailbox: %w", err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "--- %s\nTo: %s\nSubject: %s\n\n%s\n", time.Now().UTC().Format(time.RFC3339), m.To, m.Subject, m.Body); err != nil {
		return fmt.Errorf("notify: mailbox: %w", err)
	}
	b.Logger.InfoContext(ctx, "DEVELOPMENT ONLY: a message was put in the development mailbox", "path", b.Path)
	return nil
}

// Unconfigured is the notifier of a deployment with none: every message fails, so a
// recipient without a login cannot get a code (and no code is ever silently dropped).
type Unconfigured struct{}

var _ Notifier = Unconfigured{}

// Send refuses m.
func (Unconfigured) Send(context.Context, Message) error {
	return fmt.Errorf("notify: no notifier configured (RECORDVAULT_SMTP_ADDR)")
}
