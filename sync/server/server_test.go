package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
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
		{"protocol 2, not a wiped device's request", "POST", "/v1/objects/has", `{}`, map[string]string{wire.HeaderProtocol: "2"}, 426},
		// A device not updated yet still reads its wipe order and sends
		// its receipt (then its signature decides: unsigned here).
		{"protocol 2, a wiped device's view", "GET", "/v1/log/view?from=0", "", map[string]string{wire.HeaderProtocol: "2"}, 401},
		{"protocol 2, a wipe receipt", "POST", "/v1/receipts", `{}`, map[string]string{wire.HeaderProtocol: "2"}, 401},
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

// countingBody is a request body of n bytes that counts what was read.
type countingBody struct{ n, read int64 }

func (b *countingBody) Read(p []byte) (int, error) {
	if b.read >= b.n {
		return 0, io.EOF
	}
	k := min(int64(len(p)), b.n-b.read)
	clear(p[:k])
	b.read += k
	return int(k), nil
}

func (b *countingBody) Close() error { return nil }

// TestUnsignedBodiesAreNotRead: a request with a bad or missing signature
// is refused before its body is read. The server read every body first:
// eight unsigned 64 MiB uploads held at once took it from 36 to 1,228 MiB
// before each got its 401.
func TestUnsignedBodiesAreNotRead(t *testing.T) {
	hs, _ := newServer(t)
	h := hs.Config.Handler
	proto := strconv.Itoa(wire.ProtocolVersion)
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
	}{
		{"unsigned chunk", "PUT", "/v1/objects/chunk/" + strings.Repeat("ab", 32), nil},
		{"unsigned audit", "POST", "/v1/audit", nil},
		{"forged signature", "PUT", "/v1/objects/chunk/" + strings.Repeat("cd", 32), map[string]string{"Content-Digest": wire.Digest(nil),
			"Signature-Input": `coffer=("@method" "@path" "@query" "content-digest" "coffer-protocol");created=1;expires=2;nonce="AAAAAAAAAAAAAAAAAAAAAA==";keyid="admin";alg="ed25519"`,
			"Signature":       "coffer=:" + strings.Repeat("A", 86) + "==:"}},
	} {
		body := &countingBody{n: 64 << 20}
		req := httptest.NewRequest(tc.method, tc.path, body)
		req.Header.Set(wire.HeaderProtocol, proto)
		for k, v := range tc.hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || body.read != 0 {
			t.Errorf("%s: status %d after reading %d bytes of the body, want 401 after none", tc.name, rec.Code, body.read)
		}
	}
}

// TestBodyBudgets: one person holding her share of request bodies (here
// the admin's key, with 32 log appends of 4 MiB whose bodies never come) gets
// "busy" for one more at once, and its requests without a body are
// answered meanwhile. (Before, one key could take the whole budget: a
// 33rd body was admitted and waited on. That a request without a body
// never waits on a full budget — it took a queued zero-weight share, and
// waited 30 s behind other keys' bodies — is admitBody's first test; a
// full budget takes four people, which this test does not make. One
// person's several keys: TestBodyBudgetIsPerPerson in sync/client.)
func TestBodyBudgets(t *testing.T) {
	o := orgtest.Start(t, "Test")
	h := o.HTTP.Config.Handler
	key := ed25519.NewKeyFromSeed(o.Key.Seed)
	signed := func(method, path string, body io.Reader, n int64) *http.Request {
		req := httptest.NewRequest(method, path, body)
		req.ContentLength = n
		// The digest of a body never sent: the server must not read it
		// before it has room, and is answered before it comes.
		if _, err := wire.SignRequest(req, make([]byte, n), "admin", key, time.Now()); err != nil {
			t.Fatal(err)
		}
		return req
	}
	var held []*io.PipeWriter
	done := make(chan int, 40)
	for range 32 {
		pr, pw := io.Pipe()
		held = append(held, pw)
		req := signed("POST", "/v1/log", pr, 4<<20)
		go func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			done <- rec.Code
		}()
	}
	time.Sleep(300 * time.Millisecond) // the 32 admitted, waiting for their bodies
	pr, pw := io.Pipe()
	rec := httptest.NewRecorder()
	answered := make(chan struct{})
	go func() {
		h.ServeHTTP(rec, signed("POST", "/v1/log", pr, 4<<20))
		close(answered)
	}()
	select {
	case <-answered:
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), wire.CodeBusy) {
			t.Errorf("a 33rd body of one key: %d %s, want 503 busy", rec.Code, rec.Body)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("a 33rd body of one key was admitted: the server waits for it")
		pw.CloseWithError(io.ErrUnexpectedEOF)
		<-answered
	}
	pw.Close()
	rec = httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(rec, signed("GET", "/v1/log", nil, 0))
	if rec.Code != http.StatusOK || time.Since(start) > 5*time.Second {
		t.Errorf("a request without a body meanwhile: %d after %s, want 200 at once", rec.Code, time.Since(start))
	}
	for _, pw := range held {
		pw.CloseWithError(io.ErrUnexpectedEOF)
	}
	for range 32 {
		<-done
	}
}
