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
func Transport(t *http.Transport, limit time.Duration) *http.Transport {
	dial := t.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: limit, KeepAlive: 30 * time.Second}).DialContext
	}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, limit)
		defer cancel()
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &conn{Conn: c, limit: limit}, nil
	}
	return t
}

// conn is a connection whose every read and write must progress within limit.
type conn struct {
	net.Conn
	limit time.Duration
}

func (c *conn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.limit)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *conn) Write(p []byte) (int, error) {
	// The deadline of a read already waiting (the transport's reader, for the response to
	// this request) moves on too.
	if err := c.Conn.SetDeadline(time.Now().Add(c.limit)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// Unavailable reports whether err says that a dependency could not be reached or did not
// answer in time: a timeout, a refused, reset or closed connection, or a deadline of ours.
// An answer the dependency gave (a missing object, a refused permission) is not.
func Unavailable(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF)
}
