package embedded_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coffer-vault/coffer/vault/object"

	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/store/embedded"
	"github.com/coffer-vault/coffer/sync/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := embedded.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestSchema2Receipts: a store of schema 2 (one receipt per device) opens
// as schema 4 with its receipts kept, naming no order.
func TestSchema2Receipts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := embedded.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "store.db"))
	if err != nil {
		t.Fatal(err)
	}
	dev := object.NewRandomID()
	for _, q := range []string{"DROP TABLE receipts",
		"CREATE TABLE receipts (device BLOB PRIMARY KEY, receipt BLOB NOT NULL, received INTEGER NOT NULL) STRICT",
		"PRAGMA user_version = 2"} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO receipts VALUES(?, ?, ?)", dev[:], []byte("a signed receipt"), int64(42)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err = embedded.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rs, err := s.ReceiptsOf(ctx, dev)
	if err != nil || len(rs) != 1 || string(rs[0].Receipt) != "a signed receipt" || rs[0].Order != "" {
		t.Fatalf("receipts after the migration: %+v, %v", rs, err)
	}
	if err := s.PutReceipt(ctx, store.StoredReceipt{Device: dev, Order: "-", Receipt: []byte("another"), Received: time.Unix(0, 43)}); err != nil {
		t.Fatalf("a second receipt of the device: %v", err)
	}
	// Schema 4 came on top: copies of the device are counted.
	if err := s.AddReceiptCopy(ctx, dev, "-"); err != nil {
		t.Fatal(err)
	}
	if rs, err := s.ReceiptsOf(ctx, dev); err != nil || len(rs) != 2 || rs[1].Copies != 1 || rs[0].Copies != 0 {
		t.Fatalf("receipts after a copy's: %+v, %v", rs, err)
	}
}

// TestLostBlobSaidAndRepaired: an object whose row is stored but whose
// blob is gone or cut short (a damaged disk, a backup that copied the
// database and the blob folder at different times) reads as ErrLost, not
// as an internal error; a repair puts it back.
func TestLostBlobSaidAndRepaired(t *testing.T) {
	dir := t.TempDir()
	s, err := embedded.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.Lost(t, s, func(kind object.Kind, id object.ID, how string) error {
		h := id.String()
		path := filepath.Join(dir, "blobs", kind.String(), h[:2], h)
		if how == "missing" {
			return os.Remove(path)
		}
		return os.Truncate(path, 5)
	})
}

// TestOlderSchemasUpgrade: stores of schema 1 (no audit details, device
// OS or receipts) and of an early schema 2 (no receipts table) open as
// schema 4 and keep receipts; the upgrade is one transaction.
func TestOlderSchemasUpgrade(t *testing.T) {
	ctx := context.Background()
	for name, qs := range map[string][]string{
		"schema 1": {"DROP TABLE receipts", "ALTER TABLE audit_batches DROP COLUMN details", "ALTER TABLE audit_batches DROP COLUMN details_sig",
			"ALTER TABLE devices DROP COLUMN os", "PRAGMA user_version = 1"},
		"schema 2 without receipts": {"DROP TABLE receipts", "PRAGMA user_version = 2"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := embedded.Open(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "store.db"))
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range qs {
				if _, err := db.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			s, err = embedded.Open(ctx, dir)
			if err != nil {
				t.Fatalf("open after %s: %v", name, err)
			}
			defer s.Close()
			dev := object.NewRandomID()
			if err := s.PutReceipt(ctx, store.StoredReceipt{Device: dev, Order: "-", Receipt: []byte("r"), Received: time.Unix(0, 1)}); err != nil {
				t.Fatal(err)
			}
			if err := s.AddReceiptCopy(ctx, dev, "-"); err != nil {
				t.Fatal(err)
			}
			if rs, err := s.ReceiptsOf(ctx, dev); err != nil || len(rs) != 1 || rs[0].Copies != 1 {
				t.Fatalf("receipts: %+v %v", rs, err)
			}
		})
	}
}
