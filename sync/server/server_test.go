package server_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/orgtest"

	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/wire"
)

// newServer runs a bootstrapped server and returns it with an admin
// connection.
func newServer(t *testing.T) (*httptest.Server, *client.Admin) {
	t.Helper()
	o := orgtest.Start(t, "Test")
	return o.HTTP, o.Admin
}

// TestHostileRequests: what anyone can send gets a 4xx, fast, with memory
// bounded, and the server goes on serving.
func TestHostileRequests(t *testing.T) {
	hs, admin := newServer(t)
	c := hs.Client()
	raw := func(method, path, body string, hdr map[string]string) int {
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	proto := map[string]string{wire.HeaderProtocol: strconv.Itoa(wire.ProtocolVersion)}
	for _, tc := range []struct {
		name         string
		method, path string
		body         string
		hdr          map[string]string
		want         int
	}{
		{"unsigned", "POST", "/v1/objects/has", `{}`, proto, 401},
		{"old protocol", "POST", "/v1/objects/has", `{}`, map[string]string{wire.HeaderProtocol: "1"}, 426},
		{"forged signature", "GET", "/v1/feed?after=0", "", map[string]string{wire.HeaderProtocol: strconv.Itoa(wire.ProtocolVersion), "Content-Digest": wire.Digest(nil),
			"Signature-Input": `coffer=("@method" "@path" "@query" "content-digest" "coffer-protocol");created=1;expires=2;nonce="AAAAAAAAAAAAAAAAAAAAAA==";keyid="admin";alg="ed25519"`,
			"Signature":       "coffer=:" + strings.Repeat("A", 86) + "==:"}, 401},
		{"bootstrap again", "POST", "/v1/bootstrap", `{"token":"x","genesis":""}`, nil, 401},
		{"bootstrap, not JSON", "POST", "/v1/bootstrap", `{"token":`, nil, 400},
		{"path tricks", "GET", "/v1/objects/chunk/..%2f..%2fstore.db", "", proto, 401},
		{"unknown route", "DELETE", "/v1/objects/chunk/00", "", proto, 405},
	} {
		if got := raw(tc.method, tc.path, tc.body, tc.hdr); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
	// A huge body is cut off at the limit, without the server reading it
	// all into memory.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	big := bytes.Repeat([]byte("x"), 200<<20)
	req, _ := http.NewRequest("POST", hs.URL+"/v1/bootstrap", bytes.NewReader(big))
	start := time.Now()
	resp, err := c.Do(req)
	if err == nil {
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("200 MiB bootstrap body: status %d", resp.StatusCode)
		}
		resp.Body.Close()
	}
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 300<<20 {
		t.Errorf("the heap grew %d MiB for one refused body", grew>>20)
	}
	t.Logf("200 MiB body refused in %s", time.Since(start).Round(time.Millisecond))
	// Still serving, as the admin sees.
	if _, err := admin.Devices(context.Background()); err != nil {
		t.Fatalf("after the hostile requests: %v", err)
	}
}
