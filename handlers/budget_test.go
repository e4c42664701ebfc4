package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/recordvault/recordvault"
)

// An API request waits on its dependencies for requestBudget at most, whatever it calls in
// turn; the routes that stream or walk what is stored are not cut short; and whatever a
// handler makes of a call its budget ended, the answer is 503 with Retry-After, not 500.
func TestRequestBudget(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	router := mux.NewRouter()
	v1 := router.PathPrefix("/v1").Subrouter()
	v1.Use(budgetDependencies)
	left := func(w http.ResponseWriter, r *http.Request) {
		if deadline, ok := r.Context().Deadline(); ok {
			fmt.Fprint(w, time.Until(deadline).Round(time.Second))
			return
		}
		fmt.Fprint(w, "none")
	}
	v1.HandleFunc("/clients/{client}/records", left)
	v1.HandleFunc("/clients/{client}/records/{record}/attachments", left)
	v1.HandleFunc("/clients/{client}/releases", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // a dependency that never answers
		writeProblem(w, r, logger, fmt.Errorf("storage: read manifest: %w", r.Context().Err()))
	})
	get := func(ctx context.Context, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		router.ServeHTTP(w, httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil))
		return w
	}
	if got := get(t.Context(), "/v1/clients/c1/records").Body.String(); got != requestBudget.String() {
		t.Errorf("a listing's budget: %s; want %v", got, requestBudget)
	}
	if got := get(t.Context(), "/v1/clients/c1/records/r1/attachments").Body.String(); got != "none" {
		t.Errorf("an attachment's budget: %s; want none", got)
	}
	// A request whose budget has run out (its context's deadline is past, as the budget's
	// would be 8 s into a stall).
	spent, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Millisecond))
	defer cancel()
	w := get(spent, "/v1/clients/c1/releases")
	var p problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || w.Code != http.StatusServiceUnavailable ||
		w.Header().Get("Retry-After") == "" || p.Code != recordvault.EUNAVAILABLE {
		t.Fatalf("a request past its budget: %d, Retry-After %q, %+v (%v)", w.Code, w.Header().Get("Retry-After"), p, err)
	}
}
