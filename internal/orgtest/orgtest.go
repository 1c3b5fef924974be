// Package orgtest runs a real cofferd for tests: TLS on loopback, an
// organisation initialised and its admin signed in, on embedded storage in
// a temporary folder or, with COFFER_TEST_STORE=scaleout, on a private
// PostgreSQL and versitygw started for the test (make test runs the sync
// suites both ways). What a test needs of the server — its store, its
// clock, a handler to wrap for a lying server, the files of its blobs — is
// at hand.
package orgtest

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/sync/client"
	"github.com/coffer-vault/coffer/sync/server"
	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/store/embedded"
	"github.com/coffer-vault/coffer/sync/store/scaleout"
	"github.com/coffer-vault/coffer/vault/object"
)

// Org is a running server and its organisation's admin.
type Org struct {
	Dir    string // the server's state folder (embedded storage, TLS files)
	Store  store.Store
	Server *server.Server
	HTTP   *httptest.Server
	URL    string
	Pin    [32]byte // SHA-256 of the server's TLS key, as invites carry it
	Key    *client.AdminKey
	Admin  *client.Admin

	bucketDir string // scale-out: the S3 gateway's folder of the bucket
	pgData    string // scale-out: PostgreSQL's data folder

	handler atomic.Pointer[http.Handler]
	skew    atomic.Int64
}

// ScaleOut reports whether tests run on the scale-out store
// (COFFER_TEST_STORE=scaleout).
func ScaleOut() bool { return os.Getenv("COFFER_TEST_STORE") == "scaleout" }

// Start runs a server for an organisation named name; the test's cleanup
// stops it.
func Start(t testing.TB, name string) *Org {
	t.Helper()
	ctx := context.Background()
	o := &Org{Dir: t.TempDir()}
	var st store.Store
	var err error
	switch v := os.Getenv("COFFER_TEST_STORE"); v {
	case "", "embedded":
		st, err = embedded.Open(ctx, o.Dir)
	case "scaleout":
		pg, s3 := testenv.StartPostgreSQL(t), testenv.StartS3(t)
		st, err = scaleout.Open(ctx, scaleout.Config{Postgres: pg.NewDatabase(), S3: s3.URL + "/coffer",
			AccessKey: s3.AccessKey, SecretKey: s3.SecretKey})
		o.bucketDir, o.pgData = filepath.Join(s3.Dir, "coffer"), pg.Data
	default:
		t.Fatalf("orgtest: COFFER_TEST_STORE=%q: want embedded or scaleout", v)
	}
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

// Dirs returns the folders the server's storage keeps files in: its
// state folder, and (scale-out) the S3 gateway's bucket folder and
// PostgreSQL's data folder.
func (o *Org) Dirs() []string {
	if o.bucketDir == "" {
		return []string{o.Dir}
	}
	return []string{o.Dir, o.bucketDir, o.pgData}
}

// BlobFiles returns the files on the server's disk that hold the stored
// bytes of objects of kind: the blob folder's (embedded), or the S3
// gateway's (scale-out, one file per upload).
func (o *Org) BlobFiles(t testing.TB, kind object.Kind) []string {
	t.Helper()
	pattern := filepath.Join(o.Dir, "blobs", kind.String(), "*", "*")
	if o.bucketDir != "" {
		pattern = filepath.Join(o.bucketDir, kind.String(), "*", "*")
	}
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// BlobFile returns the file holding the stored bytes of (kind, id), to
// damage as a failing disk would.
func (o *Org) BlobFile(t testing.TB, kind object.Kind, id object.ID) string {
	t.Helper()
	h := id.String()
	if o.bucketDir == "" {
		return filepath.Join(o.Dir, "blobs", kind.String(), h[:2], h)
	}
	files, _ := filepath.Glob(filepath.Join(o.bucketDir, kind.String(), h, "*"))
	if len(files) != 1 {
		t.Fatalf("orgtest: %d stored files of %v %s, want one", len(files), kind, h[:12])
	}
	return files[0]
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
