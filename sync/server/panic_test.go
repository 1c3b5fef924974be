package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestPanicCountedAs500: a handler that panics is answered 500 and
// counted as one (it was counted as 200, hiding crashes from alerts:
// found by a review).
func TestPanicCountedAs500(t *testing.T) {
	s := &Server{metrics: newMetrics(), log: slog.New(slog.DiscardHandler)}
	h := s.recover(s.instrument("GET /v1/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/boom", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("answered %d", rec.Code)
	}
	if n := testutil.ToFloat64(s.metrics.requests.WithLabelValues("GET /v1/boom", "500")); n != 1 {
		t.Fatalf("counted %v as 500", n)
	}
	if n := testutil.ToFloat64(s.metrics.requests.WithLabelValues("GET /v1/boom", "200")); n != 0 {
		t.Fatalf("counted %v as 200", n)
	}
}
