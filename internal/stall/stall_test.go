package stall

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A server that accepts a connection and never answers fails the request with an error that
// Unavailable recognises, long before the test's own bound, and the next request to it fails
// at once; a server that answers is used as before, also after its pooled connection was
// closed for idleness (which opens no breaker).
func TestStalledServerFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c) // reads the request, answers nothing
		}
	}()
	const limit = 500 * time.Millisecond
	client := &http.Client{Transport: Transport(http.DefaultTransport.(*http.Transport).Clone(), limit)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/", nil)
	_, err = client.Do(req)
	if err == nil || ctx.Err() != nil || !Unavailable(err) {
		t.Fatalf("a stalled server: %v (the test's own bound: %v), want a stall error", err, ctx.Err())
	}
	// The breaker is open for that server: the next request fails at once, as unavailable.
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, "http://"+ln.Addr().String()+"/again", nil)
	if _, err = client.Do(req); !errors.As(err, new(errStalled)) || !Unavailable(err) {
		t.Fatalf("right after a stall: %v, want the breaker's answer", err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	for range 2 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatalf("a server that answers: %v", err)
		}
		resp.Body.Close()
		idle := time.NewTimer(2 * limit) // the pooled connection's idle read passes its deadline
		<-idle.C
	}
}

func TestUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Err: errors.New("connection refused")}
	for err, want := range map[error]bool{
		refused:                  true,
		context.DeadlineExceeded: true,
		io.ErrUnexpectedEOF:      true,
		errors.New("NoSuchKey"):  false,
		context.Canceled:         false,
	} {
		if got := Unavailable(err); got != want {
			t.Errorf("Unavailable(%v) = %v, want %v", err, got, want)
		}
	}
}
