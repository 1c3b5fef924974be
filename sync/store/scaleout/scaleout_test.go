//go:build linux

package scaleout_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/store/scaleout"
	"github.com/coffer-vault/coffer/sync/store/storetest"
	"github.com/coffer-vault/coffer/vault/object"
)

// services are the real PostgreSQL and S3-compatible server a test's
// stores live on.
type services struct {
	pg *testenv.PostgreSQL
	s3 *testenv.S3
	n  int
}

func start(t *testing.T) *services {
	return &services{pg: testenv.StartPostgreSQL(t), s3: testenv.StartS3(t)}
}

// config is a fresh, empty store: a new database and a new bucket.
func (sv *services) config(t *testing.T) scaleout.Config {
	sv.n++
	return scaleout.Config{Postgres: sv.pg.NewDatabase(), S3: fmt.Sprintf("%s/coffer-%d", sv.s3.URL, sv.n),
		AccessKey: sv.s3.AccessKey, SecretKey: sv.s3.SecretKey}
}

func open(t *testing.T, cfg scaleout.Config) *scaleout.Store {
	t.Helper()
	s, err := scaleout.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the suite every backend runs on a real PostgreSQL
// and a real S3-compatible server (versitygw).
func TestConformance(t *testing.T) {
	sv := start(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, sv.config(t)) })
}

// TestLostBlob: an object whose bytes the bucket lost, or holds cut short
// (its file damaged under the S3 server), reads as ErrLost and is repaired.
func TestLostBlob(t *testing.T) {
	sv := start(t)
	cfg := sv.config(t)
	s := open(t, cfg)
	defer s.Close()
	bucket := filepath.Join(sv.s3.Dir, filepath.Base(cfg.S3))
	storetest.Lost(t, s, func(kind object.Kind, id object.ID, how string) error {
		files, _ := filepath.Glob(filepath.Join(bucket, kind.String(), id.String(), "*"))
		if len(files) != 1 {
			return fmt.Errorf("want one blob of %s under the bucket, found %v", id, files)
		}
		if how == "missing" {
			return os.Remove(files[0])
		}
		return os.Truncate(files[0], 5)
	})
}

// TestServersShareOneStore: two stores opened on one database and bucket,
// as two cofferd processes do. Opening at once makes the tables once;
// what one stores the other reads; a log append and an object put race
// between them with one winner; feed events come in one order, without
// gaps, whoever wrote them; and each hears of the other's writes through
// Changes (LISTEN/NOTIFY).
func TestServersShareOneStore(t *testing.T) {
	sv := start(t)
	cfg := sv.config(t)
	var a, b *scaleout.Store
	var wg sync.WaitGroup
	var errA, errB error
	wg.Go(func() { a, errA = scaleout.Open(context.Background(), cfg) })
	wg.Go(func() { b, errB = scaleout.Open(context.Background(), cfg) })
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("two servers opening one new store at once: %v / %v", errA, errB)
	}
	defer a.Close()
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	heard := b.Changes(ctx)
	select { // the first wake-up says "listening" (and "look for what was missed")
	case <-heard:
	case <-time.After(10 * time.Second):
		t.Fatal("Changes did not start listening")
	}

	m := store.ObjectMeta{Kind: object.KindManifest, ID: object.NewRandomID(), Space: object.NewRandomID(), Device: object.NewRandomID(), Seq: 1}
	if ok, err := a.PutObject(ctx, m, []byte("envelope")); err != nil || !ok {
		t.Fatalf("put on a: %v %v", ok, err)
	}
	select {
	case <-heard:
	case <-time.After(5 * time.Second):
		t.Fatal("b did not hear of a's write")
	}
	if _, data, err := b.GetObject(ctx, m.Kind, m.ID); err != nil || string(data) != "envelope" {
		t.Fatalf("b reads a's object: %q %v", data, err)
	}
	if ok, err := b.PutObject(ctx, m, []byte("another")); err != nil || ok {
		t.Fatalf("b stored over a's object: %v %v", ok, err)
	}

	// Writers on both stores at once: events numbered 1..n with no gap,
	// and a reader following the feed meanwhile never skips one.
	const writers, each = 6, 15
	stop := make(chan struct{})
	var seen []int64
	var followErr error
	follow := sync.WaitGroup{}
	follow.Go(func() {
		var after int64
		for {
			// Done once a read begun after the writers finished finds
			// nothing more.
			stopped := false
			select {
			case <-stop:
				stopped = true
			default:
			}
			evs, err := a.AllEvents(ctx, after, 1000)
			if err != nil {
				followErr = err
				return
			}
			for _, e := range evs {
				seen = append(seen, e.Seq)
				after = e.Seq
			}
			if stopped && len(evs) == 0 {
				return
			}
		}
	})
	var puts sync.WaitGroup
	for w := range writers {
		st := []*scaleout.Store{a, b}[w%2]
		puts.Go(func() {
			for range each {
				m := store.ObjectMeta{Kind: object.KindManifest, ID: object.NewRandomID(), Space: object.NewRandomID(), Device: object.NewRandomID()}
				if _, err := st.PutObject(ctx, m, []byte("v")); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	puts.Wait()
	close(stop)
	follow.Wait()
	if followErr != nil {
		t.Fatal(followErr)
	}
	want := int64(1 + writers*each)
	if int64(len(seen)) != want {
		t.Fatalf("the follower saw %d events, want %d (skipped some)", len(seen), want)
	}
	for i, s := range seen {
		if s != int64(i+1) {
			t.Fatalf("event %d has seq %d: the feed has a gap or went back", i+1, s)
		}
	}
	if last, err := b.LastEvent(ctx); err != nil || last != want {
		t.Fatalf("last event %d %v, want %d", last, err, want)
	}

	// Changes ends with its context.
	cancel()
	deadline := time.After(10 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-heard:
		case <-deadline:
			t.Fatal("Changes' channel stayed open after its context ended")
		}
	}
}

// TestConfigRefused: a bucket URL that would leak or not work is refused
// before anything is made, with what to do; the keys never show in the
// message.
func TestConfigRefused(t *testing.T) {
	ctx := context.Background()
	good := scaleout.Config{Postgres: "host=/nonexistent dbname=x", S3: "https://s3.example.com/coffer", AccessKey: "AK", SecretKey: "SK"}
	for name, c := range map[string]struct {
		edit func(*scaleout.Config)
		want string
	}{
		"keys in the URL":              {func(c *scaleout.Config) { c.S3 = "https://AK:SK@s3.example.com/coffer" }, "AWS_ACCESS_KEY_ID"},
		"no bucket":                    {func(c *scaleout.Config) { c.S3 = "https://s3.example.com/" }, "name one bucket"},
		"plain http afar":              {func(c *scaleout.Config) { c.S3 = "http://s3.example.com/coffer" }, "use https"},
		"not a URL":                    {func(c *scaleout.Config) { c.S3 = "s3.example.com" }, "want https://"},
		"no keys":                      {func(c *scaleout.Config) { c.SecretKey = "" }, "AWS_SECRET_ACCESS_KEY"},
		"postgres mistyped":            {func(c *scaleout.Config) { c.Postgres = "postgres://u:hunter2@[::1" }, "not a PostgreSQL connection string"},
		"postgres afar, TLS preferred": {func(c *scaleout.Config) { c.Postgres = "postgres://cofferd@db.example.com/coffer" }, "sslmode=verify-full"},
		"postgres afar, TLS unverified": {func(c *scaleout.Config) {
			c.Postgres = "host=db.example.com dbname=coffer sslmode=require"
		}, "sslmode=verify-full"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := good
			c.edit(&cfg)
			_, err := scaleout.Open(ctx, cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one saying %q", err, c.want)
			}
			if strings.Contains(err.Error(), "SK@") || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("a secret in the message: %v", err)
			}
		})
	}
	if _, err := scaleout.Open(ctx, good); err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("a store with no database opened: %v", err)
	}
	// A verified certificate to a database afar passes the check (and
	// fails later, here, for want of the host).
	verified := good
	verified.Postgres = "postgres://cofferd@db.invalid/coffer?sslmode=verify-full&connect_timeout=2"
	if _, err := scaleout.Open(ctx, verified); err == nil || strings.Contains(err.Error(), "sslmode") {
		t.Fatalf("sslmode=verify-full afar: %v", err)
	}
}

// TestResidencyNamesItsPlaces: the admin's residency report names the
// database (socket folder and database name) and the bucket (endpoint,
// name and region name) the store really uses.
func TestResidencyNamesItsPlaces(t *testing.T) {
	sv := start(t)
	cfg := sv.config(t)
	s := open(t, cfg)
	defer s.Close()
	r, err := s.Residency(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.Backend != "scale-out" || len(r.Places) != 2 {
		t.Fatalf("residency: %+v", r)
	}
	db, bucket := r.Places[0], r.Places[1]
	if wantDB := "socket " + sv.pg.Socket + " database coffer_test_1"; db.Kind != "postgresql" || db.Where != wantDB {
		t.Errorf("database: %+v, want %q", db, wantDB)
	}
	// versitygw is no AWS: its region name is no place, and the report
	// says so rather than "us-east-1" as a location.
	if wantS3 := sv.s3.URL + " bucket coffer-1"; bucket.Kind != "s3" || bucket.Where != wantS3 || bucket.Region == "" || !strings.Contains(bucket.Note, "not a location") {
		t.Errorf("bucket: %+v, want %q and a region that says it is a label", bucket, wantS3)
	}
	t.Logf("%+v", r)
}
