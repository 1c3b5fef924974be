package index_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/coffer-vault/coffer/vault/index"
)

func TestMigrationsAndPragmas(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	db, err := index.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil || v != 4 {
		t.Fatalf("schema version %d, %v", v, err)
	}
	db.Close()
	// Reopening applies nothing and keeps the data.
	db, err = index.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetMeta(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var appID int
	var mode string
	raw.QueryRow("PRAGMA application_id").Scan(&appID)
	raw.QueryRow("PRAGMA journal_mode").Scan(&mode)
	if appID != index.ApplicationID || mode != "wal" {
		t.Fatalf("application_id %#x, journal %s", appID, mode)
	}
}

func TestForeignDatabasesAreRefused(t *testing.T) {
	ctx := context.Background()
	for name, setup := range map[string]string{
		"other application": "PRAGMA application_id = 1234",
		"newer schema":      "PRAGMA application_id = 1129730633; PRAGMA user_version = 99",
		"no application id": "CREATE TABLE t(x); PRAGMA user_version = 3",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.db")
			raw, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := raw.Exec(setup); err != nil {
				t.Fatal(err)
			}
			raw.Close()
			if _, err := index.Open(ctx, path); !errors.Is(err, index.ErrForeign) {
				t.Fatalf("open: %v", err)
			}
		})
	}
}
