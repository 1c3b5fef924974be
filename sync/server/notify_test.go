//go:build linux

package server

import (
	"context"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/store/scaleout"
	"github.com/coffer-vault/coffer/vault/object"
)

// TestOtherServersWritesWakeTheFeed: two servers on one scale-out store
// (real PostgreSQL and versitygw). What the other one stores wakes this
// one's waiting feeds at once, through the store's notifications: without
// them a waiting long poll looked again only every feedRecheck.
func TestOtherServersWritesWakeTheFeed(t *testing.T) {
	pg, s3 := testenv.StartPostgreSQL(t), testenv.StartS3(t)
	cfg := scaleout.Config{Postgres: pg.NewDatabase(), S3: s3.URL + "/coffer", AccessKey: s3.AccessKey, SecretKey: s3.SecretKey}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func() *scaleout.Store {
		st, err := scaleout.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	other, mine := open(), open()
	s, err := New(ctx, Config{Store: mine})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the first wake-up, on listening, is over
	for i := range 3 {
		woken := s.feed.wait()
		m := store.ObjectMeta{Kind: object.KindManifest, ID: object.NewRandomID(), Space: object.NewRandomID(), Device: object.NewRandomID()}
		if _, err := other.PutObject(ctx, m, []byte("envelope")); err != nil {
			t.Fatal(err)
		}
		select {
		case <-woken:
		case <-time.After(feedRecheck):
			t.Fatalf("write %d on the other server did not wake this one's feed within %v", i+1, feedRecheck)
		}
	}
}
