package handlers

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// rawRequest sends head and then part of a body over a fresh connection to srv, then stalls
// (or, with cut, closes its side), and returns the answer.
func rawRequest(t *testing.T, srv *httptest.Server, head, part string, cut bool) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, head+"\r\n"+part); err != nil {
		t.Fatal(err)
	}
	if cut {
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // a failing server must not hang the test
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// A body that stalls is answered 408 once its deadline passes, one claiming a length no JSON
// body may have by the largest JSON body's deadline; one that breaks off, 400; all as
// problems, before any service is reached (the server here has none).
func TestSlowAndBrokenBodies(t *testing.T) {
	srv := httptest.NewServer(NewServer(slog.New(slog.DiscardHandler), nil, fakeVerifier{}, nil, WithBodyDeadline(200*time.Millisecond, 1<<20)))
	defer srv.Close()
	for _, tc := range []struct {
		name   string
		length int
		cut    bool
		status int
		code   string
	}{
		{"stalled", 100, false, http.StatusRequestTimeout, codeTimeout},
		{"stalled, claiming 500 MB", 500_000_000, false, http.StatusRequestTimeout, codeTimeout}, // 1.2 s, not 477 s
		{"broken off", 100, true, http.StatusBadRequest, "invalid"},
	} {
		head := fmt.Sprintf("POST /v1/clients HTTP/1.1\r\nHost: rv\r\nAuthorization: Bearer good\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", tc.length)
		resp := rawRequest(t, srv, head, `{"identity": {"full_`, tc.cut)
		var p problem
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if resp.StatusCode != tc.status || p.Code != tc.code || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %+v, want %d %s", tc.name, resp.StatusCode, p, tc.status, tc.code)
		}
	}
}

// Once a body is read to its end its deadline no longer counts: a request that goes on
// answering past it (a large download after a small body) keeps its context. Go's server
// lifts the deadline when it starts its background read of the connection; were the deadline
// set so that it stood, that read would time out and cancel the request.
func TestBodyDeadlineLiftedOnceRead(t *testing.T) {
	const deadline = 100 * time.Millisecond
	srv := httptest.NewServer(bodyDeadline(serverOptions{bodyGrace: deadline, minBodyRate: 1 << 20},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err != nil {
				t.Error(err)
			}
			select {
			case <-r.Context().Done():
				http.Error(w, "cancelled", http.StatusServiceUnavailable)
			case <-time.After(5 * deadline):
				io.WriteString(w, "answered")
			}
		})))
	defer srv.Close()
	resp, err := http.Post(srv.URL, "text/plain", strings.NewReader("a small body"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "answered" {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}
