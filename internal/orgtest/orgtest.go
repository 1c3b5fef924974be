// Package orgtest runs a real cofferd for tests: embedded storage in a
// temporary folder, TLS on loopback, an organisation initialised and its
// admin signed in. What a test needs of the server — its store, its
// clock, a handler to wrap for a lying server — is at hand.
package orgtest

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/server"
	"github.com/coffer-vault/coffer/sync/store/embedded"
)

// Org is a running server and its organisation's admin.
type Org struct {
	Dir    string // the server's state folder
	Store  *embedded.Store
	Server *server.Server
	HTTP   *httptest.Server
	URL    string
	Pin    [32]byte // SHA-256 of the server's TLS key, as invites carry it
	Key    *client.AdminKey
	Admin  *client.Admin

	handler atomic.Pointer[http.Handler]
	skew    atomic.Int64
}

// Start runs a server for an organisation named name; the test's cleanup
// stops it.
func Start(t testing.TB, name string) *Org {
	t.Helper()
	ctx := context.Background()
	o := &Org{Dir: t.TempDir()}
	st, err := embedded.Open(ctx, o.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	o.Store = st
	cert, pin, err := server.LoadOrMakeTLS(o.Dir, "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	o.Pin = pin
	o.Server, err = server.New(ctx, server.Config{Store: st, TLSKeyHash: pin, Now: o.now})
	if err != nil {
		t.Fatal(err)
	}
	o.Honest()
	o.HTTP = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*o.handler.Load()).ServeHTTP(w, r)
	}))
	o.HTTP.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	o.HTTP.StartTLS()
	t.Cleanup(o.HTTP.Close)
	o.URL = o.HTTP.URL
	token, err := o.Server.BootstrapToken(ctx)
	if err != nil || token == "" {
		t.Fatalf("bootstrap token: %q %v", token, err)
	}
	if o.Key, _, err = client.Init(ctx, o.URL, token, name, pin, nil); err != nil {
		t.Fatal(err)
	}
	if o.Admin, err = client.DialAdmin(ctx, o.Key); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(o.Admin.Close)
	return o
}

// Serve puts h in front of the server (a lying server wraps
// o.Server.Handler()); Honest takes it away.
func (o *Org) Serve(h http.Handler) { o.handler.Store(&h) }

// Honest serves the real server again.
func (o *Org) Honest() { o.Serve(o.Server.Handler()) }

// SetSkew makes the server's clock run d ahead of the machine's.
func (o *Org) SetSkew(d time.Duration) { o.skew.Store(int64(d)) }

// Stop takes the server off the network.
func (o *Org) Stop() { o.HTTP.Close() }

func (o *Org) now() time.Time { return time.Now().Add(time.Duration(o.skew.Load())) }
