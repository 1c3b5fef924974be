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
	"path/filepath"
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

// ErrReadOnly is wrapped by the writes of an index opened read-only, and
// by a read-only open of an index that cannot be read without writing.
var ErrReadOnly = errors.New("the index cannot be written here")

// DB is an open index.
type DB struct {
	db       *sql.DB
	readOnly bool
}

// Options tune OpenWith.
type Options struct {
	// ReadOnly opens the index for reading only, for a vault on storage
	// that cannot be written (read-only media, a full disk): nothing is
	// created, migrated or written, and every write fails.
	ReadOnly bool
}

// Open opens or creates the index at path and applies pending migrations.
// The file and its WAL and shared-memory files are readable by the owner
// only (SQLite gives the WAL files the database file's mode).
func Open(ctx context.Context, path string) (*DB, error) { return OpenWith(ctx, path, Options{}) }

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, o Options) (*DB, error) {
	if o.ReadOnly {
		return openReadOnly(ctx, path)
	}
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

// openReadOnly opens an existing index for reading only. SQLite reads an
// index in WAL mode through its shared-memory file (index.db-shm), which it
// must create, or grow, before the first read: on read-only media or a
// full disk it cannot, and even a read fails ("disk I/O error"). Where the
// WAL holds nothing the file itself lacks — it is absent or empty, as a
// clean close leaves it — the file alone is the whole index, and SQLite
// reads it as immutable, without any of its locking files. A WAL that holds
// changes (left by a crash) needs its shared-memory file: if that exists,
// SQLite reads both, without writing; otherwise the index cannot be read
// here, and the error says so.
func openReadOnly(ctx context.Context, path string) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	dsn := "file:" + path + "?mode=ro&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)"
	d, err := tryOpen(ctx, dsn)
	if err != nil {
		if st, werr := os.Stat(path + "-wal"); werr == nil && st.Size() > 0 {
			return nil, fmt.Errorf("index: %w: %s holds changes not yet merged into the index, which SQLite reads only where it can write (%v)",
				ErrReadOnly, filepath.Base(path)+"-wal", err)
		}
		if d, err = tryOpen(ctx, dsn+"&immutable=1"); err != nil {
			return nil, err
		}
	}
	d.readOnly = true
	return d, nil
}

// tryOpen opens a read-only DSN and checks that it is a current index.
func tryOpen(ctx context.Context, dsn string) (*DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	d := &DB{db: db, readOnly: true}
	version, files, err := d.schema(ctx)
	if err == nil && version < len(files) {
		err = fmt.Errorf("index: %w: it was written by an earlier version of Coffer and must be upgraded first (schema %d to %d)",
			ErrReadOnly, version, len(files))
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

// ReadOnly reports whether the index was opened for reading only.
func (d *DB) ReadOnly() bool { return d.readOnly }

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// schema returns the applied schema version and the migrations this build
// has, after checking that the file is a Coffer index it can read.
func (d *DB) schema(ctx context.Context) (int, []string, error) {
	var appID, version int
	if err := d.db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return 0, nil, fmt.Errorf("index: %w", err)
	}
	if err := d.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, nil, fmt.Errorf("index: %w", err)
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return 0, nil, err
	}
	sort.Strings(files)
	if appID != 0 && appID != ApplicationID {
		return 0, nil, fmt.Errorf("index: application_id %#x: %w", appID, ErrForeign)
	}
	if appID == 0 && version != 0 {
		return 0, nil, fmt.Errorf("index: database without application_id: %w", ErrForeign)
	}
	if version > len(files) {
		return 0, nil, fmt.Errorf("index: schema %d is newer than this build's %d: %w", version, len(files), ErrForeign)
	}
	return version, files, nil
}

func (d *DB) migrate(ctx context.Context) error {
	version, files, err := d.schema(ctx)
	if err != nil {
		return err
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
