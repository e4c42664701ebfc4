// Package notify delivers messages to recipients' registered addresses: by SMTP in
// production, and to a development mailbox (a file the developer reads) under `make dev`.
// Messages carry no PHI: a one-time code, a release id and the clinic's id.
package notify

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/recordvault/recordvault"
)

// Message is one message to one address.
type Message struct {
	To, Subject, Body string
}

// Notifier sends messages.
type Notifier interface {
	Send(ctx context.Context, m Message) error
}

// SMTP sends through an SMTP server with github.com/wneessen/go-mail, over TLS: STARTTLS
// that the server must offer (the default), or implicit TLS (SMTPS). A one-time code in clear
// text on the wire would let anyone on the path redeem the recipient's copy, so plain SMTP
// is refused unless the deployment marks it development-only.
type SMTP struct {
	Addr     string // host:port
	From     string
	User     string // with Password, SMTP AUTH (PLAIN, only ever over TLS); none when empty
	Password string
	Security Security
	// TLSConfig, when set, is used for the TLS connection (roots, server name); the system's
	// roots and Addr's host otherwise.
	TLSConfig *tls.Config
	// Timeout bounds the connection, each command and the whole send; DefaultTimeout when 0.
	Timeout time.Duration
}

// Security is how an SMTP connection is protected.
type Security string

const (
	STARTTLS         Security = "starttls"        // the server must offer STARTTLS; the default
	ImplicitTLS      Security = "implicit"        // TLS from the first byte (SMTPS, usually port 465)
	PlainDevelopment Security = "off-development" // no TLS: a development relay on loopback only
)

// ParseSecurity reads a setting: "" is STARTTLS; anything unknown is an error, never plain.
func ParseSecurity(v string) (Security, error) {
	switch s := Security(v); s {
	case "":
		return STARTTLS, nil
	case STARTTLS, ImplicitTLS, PlainDevelopment:
		return s, nil
	}
	return "", fmt.Errorf("notify: SMTP security %q: one of %s, %s, %s", v, STARTTLS, ImplicitTLS, PlainDevelopment)
}

// DefaultTimeout bounds an SMTP send: a code that does not go out in that time is answered
// as the dependency's failure, and the recipient may ask again.
const DefaultTimeout = 10 * time.Second

var _ Notifier = SMTP{}

// Send sends m, under ctx and the notifier's timeout.
func (s SMTP) Send(ctx context.Context, m Message) error {
	if strings.ContainsAny(m.To+m.Subject, "\r\n") {
		return fmt.Errorf("notify: header injection refused")
	}
	host, portText, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return fmt.Errorf("notify: smtp address: %w", err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("notify: smtp port: %w", err)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// go-mail reads the greeting without a deadline and leaves the connection open when the
	// greeting, STARTTLS or AUTH fails: the dialer puts the whole exchange under the timeout
	// and keeps the connection, so that Send closes it whatever happened.
	var conn net.Conn
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var err error
		if s.Security == ImplicitTLS {
			conn, err = (&tls.Dialer{Config: s.TLSConfig}).DialContext(ctx, network, addr)
		} else {
			conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		if err == nil {
			err = conn.SetDeadline(time.Now().Add(timeout))
		}
		return conn, err
	}
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(timeout), mail.WithDialContextFunc(dial)}
	if s.TLSConfig != nil {
		opts = append(opts, mail.WithTLSConfig(s.TLSConfig))
	}
	switch s.Security {
	case ImplicitTLS:
		opts = append(opts, mail.WithSSL()) // the dialer speaks TLS from the first byte
	case PlainDevelopment:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if s.User != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(s.User), mail.WithPassword(s.Password))
	}
	client, err := mail.NewClient(host, opts...)
	if err != nil {
		return fmt.Errorf("notify: smtp client: %w", err)
	}
	msg := mail.NewMsg()
	if err := msg.From(s.From); err != nil {
		return fmt.Errorf("notify: from address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("notify: recipient address refused") // the address is the recipient's: not repeated
	}
	msg.Subject(m.Subject)
	msg.SetBodyString(mail.TypeTextPlain, m.Body)
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		// The server's answers and go-mail's errors name the recipient's address: kept out.
		return fmt.Errorf("%w: notify: smtp: %s", recordvault.ErrUnavailable, strings.ReplaceAll(err.Error(), m.To, "<recipient>"))
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
