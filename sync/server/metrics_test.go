package server_test

import (
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/orgtest"
	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
)

// TestMetrics: what a device does shows in the server's Prometheus
// metrics — requests by route and status, objects stored by kind, the
// log's size, open feed streams — and nothing of the organisation's
// (no e-mail, device or folder ID, address) does.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	o := orgtest.Start(t, "Acme")
	code, _, err := o.Admin.Invite(ctx, "ann@acme.test", policy.Manager, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	v, err := client.Enroll(ctx, client.Enrollment{Dir: filepath.Join(t.TempDir(), "vault"), Invite: code, Name: "Ann Trader",
		DeviceName: "Ann's laptop", Passphrase: "a long enough passphrase 2026"})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	folder, err := v.CreateFolder(ctx, "Project Falcon", policy.Confidential)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Put(ctx, folder, "terms.txt", strings.NewReader("price 42"), vault.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := client.NewSyncer(v)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	// A feed stream held open while the metrics are read.
	sctx, stop := context.WithCancel(ctx)
	opened := make(chan struct{})
	go client.StreamFeed(sctx, s.Conn(), 0, func() { close(opened) }, func(wire.Event) {})
	<-opened
	defer stop()

	scrape := func() string {
		rec := httptest.NewRecorder()
		o.Server.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		b, _ := io.ReadAll(rec.Body)
		return string(b)
	}
	value := func(text, series string) float64 {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+]+)$`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no %s in the metrics:\n%s", series, text)
		}
		f, _ := strconv.ParseFloat(m[1], 64)
		return f
	}
	text := scrape()
	for series, least := range map[string]float64{
		`cofferd_http_requests_total{code="201",route="PUT /v1/objects/{kind}/{id}"}`: 2, // at least a chunk and a manifest
		`cofferd_http_requests_total{code="200",route="POST /v1/enroll"}`:             1,
		`cofferd_objects_stored_total{kind="manifest"}`:                               1,
		`cofferd_objects_stored_total{kind="chunk"}`:                                  1,
		`cofferd_stored_bytes_total`:                                                  100,
		`cofferd_org_log_entries`:                                                     4, // genesis, invite, user, device, …
		`cofferd_feed_streams`:                                                        1,
		`cofferd_http_request_duration_seconds_count{route="GET /v1/log"}`:            1,
	} {
		if got := value(text, series); got < least {
			t.Errorf("%s = %v, want at least %v", series, got, least)
		}
	}
	for _, private := range []string{"ann@acme.test", v.DeviceID().String(), folder.ID.String(), "127.0.0.1", "Falcon", "laptop"} {
		if strings.Contains(text, private) {
			t.Errorf("the metrics name %q", private)
		}
	}
	stop()
	for deadline := time.Now().Add(5 * time.Second); value(scrape(), "cofferd_feed_streams") != 0; {
		if time.Now().After(deadline) {
			t.Fatal("the closed stream is still counted")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
