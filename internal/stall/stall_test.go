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

// A name that resolves to two servers, one of which stalls: the stall opens the breaker of
// that server alone, and the next requests are served by the other.
func TestStalledServerLeavesItsPeersServing(t *testing.T) {
	stalled, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	go func() {
		for {
			c, err := stalled.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c)
		}
	}()
	_, port, _ := net.SplitHostPort(stalled.Addr().String())
	healthy, err := net.Listen("tcp", "127.0.0.2:"+port)
	if err != nil {
		t.Fatalf("a second loopback address (all of 127/8 is loopback on Linux): %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(healthy)
	defer srv.Close()

	lookup := func(context.Context, string) ([]string, error) { return []string{"127.0.0.1", "127.0.0.2"}, nil }
	const limit = 500 * time.Millisecond
	client := &http.Client{Transport: transport(http.DefaultTransport.(*http.Transport).Clone(), limit, lookup)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	get := func() error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://nodes:"+port+"/", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(); err == nil || !Unavailable(err) {
		t.Fatalf("the first request, to the stalled server: %v, want a stall", err)
	}
	for i := range 3 {
		if err := get(); err != nil {
			t.Fatalf("request %d after the stall: %v, want the other server's answer", i, err)
		}
	}
}
