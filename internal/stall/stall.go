// Package stall bounds the service's calls to its dependencies (Vault, S3): a connection on
// which a read or a write makes no progress for a set time fails, so a dependency that is
// paused, overloaded or cut off answers an error in seconds instead of holding a request for
// as long as the kernel keeps the connection. Unavailable tells such failures (and a
// dependency that refuses connections, or answers that it cannot serve now) from every other
// error, so that callers answer them as "try again shortly" rather than as a fault of theirs.
package stall

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Limit is how long one read or write on a dependency's connection may wait for progress.
// Vault answers Transit calls in milliseconds and S3 keeps a stream moving; three seconds
// without a byte is a stall, not work.
const Limit = 3 * time.Second

// Transport makes t's connections fail when they stall for limit: every read and write must
// progress within limit of its start, and a write also moves the read deadline on, so that a
// response is awaited for limit from the end of its request. Idle pooled connections are
// closed after limit; the transport dials again when it needs one.
//
// A server that does not answer a request at all (no byte within limit of sending it), or
// refuses or stalls a connection, also opens a breaker for that server's address for limit:
// until it closes, new dials to it and every read and write on its other connections fail at
// once, so that a request making several calls, and the requests queued behind it, wait for
// one stall, not one each. A read that returns data closes it. An idle pooled connection
// that times out is only closed: that is no stall.
//
// Breakers are per server, not per name: a name that resolves to several servers (Vault's
// nodes, MinIO's, a cloud S3 endpoint's front ends) is dialled at its addresses in the order
// DNS gave them, skipping those whose breaker is open, so one stalled server does not stop the
// others. Only when every address's breaker is open does the dial fail at once.
func Transport(t *http.Transport, limit time.Duration) *http.Transport {
	return transport(t, limit, net.DefaultResolver.LookupHost)
}

// maxBreakers bounds the breakers kept; past it, closed ones are forgotten (a name whose
// addresses change over months would otherwise add one per address ever seen).
const maxBreakers = 1024

func transport(t *http.Transport, limit time.Duration, lookup func(context.Context, string) ([]string, error)) *http.Transport {
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: limit, KeepAlive: 30 * time.Second}).DialContext
	}
	var mu sync.Mutex
	breakers := map[string]*breaker{}
	breakerOf := func(addr string) *breaker {
		mu.Lock()
		defer mu.Unlock()
		b := breakers[addr]
		if b == nil {
			if len(breakers) >= maxBreakers {
				for a, old := range breakers {
					if old.check() == nil {
						delete(breakers, a)
					}
				}
			}
			b = &breaker{limit: limit}
			breakers[addr] = b
		}
		return b
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ips := []string{host}
		if net.ParseIP(host) == nil {
			lctx, cancel := context.WithTimeout(ctx, limit)
			ips, err = lookup(lctx, host)
			cancel()
			if err != nil {
				return nil, err
			}
		}
		err = errStalled{}
		for _, ip := range ips {
			server := net.JoinHostPort(ip, port)
			b := breakerOf(server)
			if b.check() != nil {
				continue
			}
			dctx, cancel := context.WithTimeout(ctx, limit)
			c, derr := dial(dctx, network, server)
			cancel()
			if derr != nil {
				b.failed(derr)
				err = derr
				continue
			}
			return &conn{Conn: c, limit: limit, breaker: b}, nil
		}
		return nil, err
	}
	return t
}

// breaker remembers a stall for limit after it happened.
type breaker struct {
	limit time.Duration
	mu    sync.Mutex
	until time.Time
}

// errStalled is what the breaker answers while it is open: a timeout, as the stall was.
type errStalled struct{}

func (errStalled) Error() string {
	return "stall: the dependency stalled a moment ago; not waiting on it again yet"
}
func (errStalled) Timeout() bool   { return true }
func (errStalled) Temporary() bool { return true }

func (b *breaker) check() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if time.Now().Before(b.until) {
		return errStalled{}
	}
	return nil
}

// failed opens the breaker when err is a stall or a refused connection.
func (b *breaker) failed(err error) {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() || errors.Is(err, syscall.ECONNREFUSED) {
		b.mu.Lock()
		b.until = time.Now().Add(b.limit)
		b.mu.Unlock()
	}
}

func (b *breaker) succeeded() {
	b.mu.Lock()
	b.until = time.Time{}
	b.mu.Unlock()
}

// conn is a connection whose every read and write must progress within limit.
type conn struct {
	net.Conn
	limit   time.Duration
	breaker *breaker
	// awaiting: a request was written and no byte of its answer has come yet.
	awaiting atomic.Bool
}

func (c *conn) Read(p []byte) (int, error) {
	if err := c.breaker.check(); err != nil {
		return 0, err
	}
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.limit)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	switch {
	case n > 0:
		c.awaiting.Store(false)
		c.breaker.succeeded()
	case err != nil && c.awaiting.Load():
		c.breaker.failed(err)
	}
	return n, err
}

func (c *conn) Write(p []byte) (int, error) {
	if err := c.breaker.check(); err != nil {
		return 0, err
	}
	// The deadline of a read already waiting (the transport's reader, for the response to
	// this request) moves on too.
	if err := c.Conn.SetDeadline(time.Now().Add(c.limit)); err != nil {
		return 0, err
	}
	c.awaiting.Store(true)
	n, err := c.Conn.Write(p)
	if err != nil {
		c.breaker.failed(err)
	}
	return n, err
}

// Unavailable reports whether err says that a dependency could not be reached or did not
// answer in time: a timeout, a refused, reset or closed connection, or a deadline of ours.
// An answer the dependency gave (a missing object, a refused permission) is not.
func Unavailable(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF)
}
