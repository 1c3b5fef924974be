// Package embedded is cofferd's storage for one machine: metadata in
// SQLite (modernc.org/sqlite, pure Go) and object bodies as files in a
// blob folder, both under the server's data folder:
//
//	DIR/store.db            metadata (WAL; synchronous=FULL)
//	DIR/blobs/<kind>/<2 hex>/<64 hex>   object envelopes, 0600
//
// Blobs are created with a link from a synced temp file, which fails if the
// name exists: create-if-absent without a lock, and a blob is never
// overwritten.
package embedded

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/tlog"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/vault/object"
	vstore "github.com/coffer-vault/coffer/vault/store"
)

//go:embed schema.sql
var schema string

// applicationID marks the SQLite file as cofferd's ("CFRS").
const applicationID = 0x43465253

// Store is the embedded store.
type Store struct {
	db *sql.DB
	// fast writes what need not survive a power cut — request nonces
	// (kept 2 minutes) and when a device was last seen — without an fsync
	// per request (synchronous=NORMAL on a connection of its own).
	fast      *sql.DB
	lastPurge atomic.Int64 // unix seconds of the last purge of expired nonces
	blobs     string
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store in dir.
func Open(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	path := filepath.Join(dir, "store.db")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	f.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)"+
		"&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s := &Store{db: db, blobs: filepath.Join(dir, "blobs")}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	s.fast, err = sql.Open("sqlite", "file:"+path+"?_txlock=immediate&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	s.fast.SetMaxOpenConns(1)
	return s, nil
}

func (s *Store) migrate(ctx context.Context) error {
	var appID, version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if appID == applicationID && version >= 1 && version <= 3 {
		if err := s.upgrade(ctx, version); err != nil {
			return err
		}
		version = 4
	}
	switch {
	case appID == applicationID && version == 4:
		return nil
	case appID != 0 || version != 0:
		return fmt.Errorf("store: store.db is not a cofferd store this version reads (application %#x, schema %d)", appID, version)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []string{schema, fmt.Sprintf("PRAGMA application_id = %d", applicationID), "PRAGMA user_version = 4"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: schema: %w", err)
		}
	}
	return tx.Commit()
}

// upgrade brings a store of an older schema (1 to 3) to schema 4, in one
// transaction: a crash half-way leaves it as it was (a column added
// without the version that says so failed every later start).
func (s *Store) upgrade(ctx context.Context, version int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	var receipts int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'receipts'").Scan(&receipts); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	var qs []string
	if version == 1 {
		// Schema 2: audit details for compliance beside each batch.
		qs = append(qs, "ALTER TABLE audit_batches ADD COLUMN details BLOB",
			"ALTER TABLE audit_batches ADD COLUMN details_sig BLOB",
			"ALTER TABLE devices ADD COLUMN os TEXT NOT NULL DEFAULT ''")
	}
	const receipts3 = "CREATE TABLE receipts (device BLOB NOT NULL, ord TEXT NOT NULL, receipt BLOB NOT NULL, received INTEGER NOT NULL, PRIMARY KEY (device, ord)) STRICT"
	switch {
	case version < 3 && receipts == 0:
		// Schema 1, and some schema 2 stores of early builds: no
		// receipts yet.
		qs = append(qs, receipts3)
	case version == 2:
		// Schema 3: a device may hold a receipt per wipe order (its own
		// wipe's, then the admin's). A receipt kept before names no order
		// here ("").
		qs = append(qs, "ALTER TABLE receipts RENAME TO receipts_2", receipts3,
			"INSERT INTO receipts(device, ord, receipt, received) SELECT device, '', receipt, received FROM receipts_2",
			"DROP TABLE receipts_2")
	}
	// Schema 4: how many further copies of a device (disk images,
	// backups) sent a receipt of the same wipe.
	qs = append(qs, "ALTER TABLE receipts ADD COLUMN copies INTEGER NOT NULL DEFAULT 0", "PRAGMA user_version = 4")
	for _, q := range qs {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: schema %d to 4: %w", version, err)
		}
	}
	return tx.Commit()
}

// Close closes the store.
func (s *Store) Close() error {
	s.fast.Close()
	return s.db.Close()
}

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func idOrNil(id object.ID) any {
	if id.IsZero() {
		return nil
	}
	return id[:]
}

func scanID(b []byte) object.ID {
	var id object.ID
	copy(id[:], b)
	return id
}

// GetMeta implements store.Store.
func (s *Store) GetMeta(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: meta %q: %w", key, store.ErrNotFound)
	}
	return v, err
}

// PutMeta implements store.Store.
func (s *Store) PutMeta(ctx context.Context, key string, old, value []byte) error {
	var res sql.Result
	var err error
	if old == nil {
		res, err = s.db.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT DO NOTHING", key, value)
	} else {
		res, err = s.db.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = ? AND value = ?", value, key, old)
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: meta %q: %w", key, store.ErrConflict)
	}
	return nil
}

// LogSize implements store.Store.
func (s *Store) LogSize(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM log").Scan(&n)
	return n, err
}

// AppendLog implements store.Store: one transaction for all records.
func (s *Store) AppendLog(ctx context.Context, n int64, records ...store.LogRecord) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	var size int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM log").Scan(&size); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if size != n {
		return fmt.Errorf("store: the log has %d entries, not %d: %w", size, n, store.ErrConflict)
	}
	for i, r := range records {
		at := n + int64(i)
		if _, err := tx.ExecContext(ctx, "INSERT INTO log(idx, entry) VALUES(?, ?)", at, r.Entry); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		first := tlog.StoredHashCount(at)
		for j, h := range r.Hashes {
			if _, err := tx.ExecContext(ctx, "INSERT INTO log_hashes(idx, hash) VALUES(?, ?)", first+int64(j), h[:]); err != nil {
				return fmt.Errorf("store: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO events(kind, id, log) VALUES(0, ?, ?)", make([]byte, object.IDSize), at+1); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return tx.Commit()
}

// LogEntries implements store.Store.
func (s *Store) LogEntries(ctx context.Context, start, end int64) ([][]byte, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT entry FROM log WHERE idx >= ? AND idx < ? ORDER BY idx", start, end)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// ReadHashes implements store.Store.
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		var b []byte
		if err := s.db.QueryRowContext(ctx, "SELECT hash FROM log_hashes WHERE idx = ?", x).Scan(&b); err != nil {
			return nil, fmt.Errorf("store: stored hash %d: %w", x, err)
		}
		copy(out[i][:], b)
	}
	return out, nil
}

func (s *Store) blobPath(kind object.Kind, id object.ID) string {
	h := id.String()
	return filepath.Join(s.blobs, kind.String(), h[:2], h)
}

// putBlob writes data as a new blob; it reports false if one exists.
func (s *Store) putBlob(kind object.Kind, id object.ID, data []byte) (bool, error) {
	dst := s.blobPath(kind, id)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(filepath.Join(s.blobs, "tmp"), "put-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, err
	}
	if err := os.Link(tmp.Name(), dst); err != nil {
		if errors.Is(err, os.ErrExist) {
			return false, nil
		}
		return false, err
	}
	return true, vstore.SyncDir(filepath.Dir(dst))
}

// PutObject implements store.Store.
func (s *Store) PutObject(ctx context.Context, m store.ObjectMeta, data []byte) (bool, error) {
	if _, err := s.StatObject(ctx, m.Kind, m.ID); err == nil {
		return false, nil
	}
	if _, err := s.putBlob(m.Kind, m.ID, data); err != nil {
		return false, fmt.Errorf("store: blob: %w", err)
	}
	// A blob left by a crash before its row is taken as this upload's:
	// the row below decides which upload is the object.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	if m.Stored.IsZero() {
		m.Stored = time.Now()
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO objects(kind, id, space, size, device, file, parent, seq, stored) VALUES(?,?,?,?,?,?,?,?,?)",
		m.Kind, m.ID[:], m.Space[:], int64(len(data)), m.Device[:], idOrNil(m.File), idOrNil(m.Parent), m.Seq, m.Stored.UnixNano())
	if isUnique(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	if m.Kind != object.KindChunk {
		if _, err := tx.ExecContext(ctx, "INSERT INTO events(kind, id, space, file, parent) VALUES(?,?,?,?,?)",
			m.Kind, m.ID[:], m.Space[:], idOrNil(m.File), idOrNil(m.Parent)); err != nil {
			return false, fmt.Errorf("store: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	// The blob on disk may be an earlier, unnamed upload's (a crash); the
	// stored object must be the one whose row was just made.
	if got, err := vstore.ReadRegular(s.blobPath(m.Kind, m.ID), object.MaxSize+1024); err != nil || string(got) != string(data) {
		if err := s.replaceBlob(m.Kind, m.ID, data); err != nil {
			return true, fmt.Errorf("store: blob: %w", err)
		}
	}
	return true, nil
}

// RepairLost implements store.Store.
func (s *Store) RepairLost(ctx context.Context, kind object.Kind, id object.ID, data []byte) (bool, error) {
	m, _, err := s.GetObject(ctx, kind, id)
	if !errors.Is(err, store.ErrLost) || m.Size != int64(len(data)) {
		return false, nil
	}
	if err := s.replaceBlob(kind, id, data); err != nil {
		return false, fmt.Errorf("store: blob: %w", err)
	}
	return true, nil
}

// replaceBlob rewrites a blob no row named before (left by a crash).
func (s *Store) replaceBlob(kind object.Kind, id object.ID, data []byte) error {
	return vstore.WriteFileAtomic(s.blobPath(kind, id), data, 0o600)
}

// StatObject implements store.Store.
func (s *Store) StatObject(ctx context.Context, kind object.Kind, id object.ID) (store.ObjectMeta, error) {
	m := store.ObjectMeta{Kind: kind, ID: id}
	var space, device, file, parent []byte
	var stored int64
	err := s.db.QueryRowContext(ctx, "SELECT space, size, device, file, parent, seq, stored FROM objects WHERE kind = ? AND id = ?",
		kind, id[:]).Scan(&space, &m.Size, &device, &file, &parent, &m.Seq, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("store: %v %s: %w", kind, id.String()[:12], store.ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("store: %w", err)
	}
	m.Space, m.Device, m.File, m.Parent = scanID(space), scanID(device), scanID(file), scanID(parent)
	m.Stored = time.Unix(0, stored)
	return m, nil
}

// GetObject implements store.Store.
func (s *Store) GetObject(ctx context.Context, kind object.Kind, id object.ID) (store.ObjectMeta, []byte, error) {
	m, err := s.StatObject(ctx, kind, id)
	if err != nil {
		return m, nil, err
	}
	data, err := vstore.ReadRegular(s.blobPath(kind, id), object.MaxSize+1024)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && int64(len(data)) != m.Size) {
		got := "missing"
		if err == nil {
			got = fmt.Sprintf("%d bytes, not %d", len(data), m.Size)
		}
		return m, nil, fmt.Errorf("store: blob %v %s (%s): %w", kind, id.String()[:12], got, store.ErrLost)
	}
	if err != nil {
		return m, nil, fmt.Errorf("store: blob %v %s: %w", kind, id.String()[:12], err)
	}
	return m, data, nil
}
