// Package index is the vault's local SQLite cache (modernc.org/sqlite, pure
// Go): which folders, files, versions and chunks exist, and the local audit
// log. It holds opaque IDs, times, sizes and ciphertext only; sealing and
// unsealing is the vault's job. The signed objects are the truth: everything
// here can be checked against them.
package index

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ApplicationID marks a SQLite file as a Coffer index ("CFRI").
const ApplicationID = 0x43465249

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound is returned for a row that does not exist.
var ErrNotFound = errors.New("not in the index")

// ErrExists is returned when a unique name is taken.
var ErrExists = errors.New("already exists")

// ErrForeign is returned when the file is a SQLite database of another
// application or a newer Coffer.
var ErrForeign = errors.New("not a Coffer index this version can read")

// DB is an open index.
type DB struct {
	db *sql.DB
}

// Open opens or creates the index at path and applies pending migrations.
// The file and its WAL and shared-memory files are readable by the owner
// only (SQLite gives the WAL files the database file's mode).
func Open(ctx context.Context, path string) (*DB, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("index: %w", err)
		}
	}
	dsn := "file:" + path + "?_txlock=immediate" +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)" +
		"&_pragma=busy_timeout(10000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	d := &DB{db: db}
	if err := d.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

func (d *DB) migrate(ctx context.Context) error {
	var appID, version int
	if err := d.db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if err := d.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	if appID != 0 && appID != ApplicationID {
		return fmt.Errorf("index: application_id %#x: %w", appID, ErrForeign)
	}
	if appID == 0 && version != 0 {
		return fmt.Errorf("index: database without application_id: %w", ErrForeign)
	}
	if version > len(files) {
		return fmt.Errorf("index: schema %d is newer than this build's %d: %w", version, len(files), ErrForeign)
	}
	for i := version; i < len(files); i++ {
		n, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(files[i], "migrations/"), "_", 2)[0])
		if err != nil || n != i+1 {
			return fmt.Errorf("index: migration %s is out of sequence", files[i])
		}
		script, err := migrations.ReadFile(files[i])
		if err != nil {
			return err
		}
		tx, err := d.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("index: %w", err)
		}
		stmts := []string{string(script),
			fmt.Sprintf("PRAGMA application_id = %d", ApplicationID),
			fmt.Sprintf("PRAGMA user_version = %d", i+1)}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				tx.Rollback()
				return fmt.Errorf("index: migration %d: %w", i+1, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("index: migration %d: %w", i+1, err)
		}
	}
	return nil
}

// SchemaVersion returns the applied schema version.
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := d.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// IntegrityCheck runs SQLite's own consistency check.
func (d *DB) IntegrityCheck(ctx context.Context) error {
	rows, err := d.db.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("index: integrity check: %s", strings.Join(problems, "; "))
	}
	return rows.Err()
}

// GetMeta returns a value of the meta table.
func (d *DB) GetMeta(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := d.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("index: meta %q: %w", key, ErrNotFound)
	}
	return v, err
}

// SetMeta sets a value of the meta table.
func (d *DB) SetMeta(ctx context.Context, key string, value []byte) error {
	_, err := d.db.ExecContext(ctx,
		"INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value)
	return err
}

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
