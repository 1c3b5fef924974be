package index

import (
	"context"
	"database/sql"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/coffer-vault/coffer/vault/object"
)

// OrgLogSize returns how many org log entries the index holds.
func (d *DB) OrgLogSize(ctx context.Context) (int64, error) {
	var n int64
	err := d.db.QueryRowContext(ctx, "SELECT count(*) FROM orglog").Scan(&n)
	return n, err
}

// OrgEntries returns org log entries [start, end).
func (d *DB) OrgEntries(ctx context.Context, start, end int64) ([][]byte, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT entry FROM orglog WHERE idx >= ? AND idx < ? ORDER BY idx", start, end)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
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

// OrgHashes returns every stored hash of the org log, in tlog's order.
func (d *DB) OrgHashes(ctx context.Context) ([]tlog.Hash, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT hash FROM orglog_hashes ORDER BY idx")
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	var out []tlog.Hash
	for rows.Next() {
		var b []byte
		var h tlog.Hash
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		copy(h[:], b)
		out = append(out, h)
	}
	return out, rows.Err()
}

// AppendOrgEntries appends entries as numbers n, n+1, … with the stored
// hashes that follow the first StoredHashCount(n), if the index holds
// exactly n entries (ErrExists otherwise).
func (d *DB) AppendOrgEntries(ctx context.Context, n int64, entries [][]byte, hashes []tlog.Hash) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	var size int64
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM orglog").Scan(&size); err != nil {
		return err
	}
	if size != n {
		return fmt.Errorf("index: the org log holds %d entries, not %d: %w", size, n, ErrExists)
	}
	for i, e := range entries {
		if _, err := tx.ExecContext(ctx, "INSERT INTO orglog(idx, entry) VALUES(?, ?)", n+int64(i), e); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	first := tlog.StoredHashCount(n)
	for i, h := range hashes {
		if _, err := tx.ExecContext(ctx, "INSERT INTO orglog_hashes(idx, hash) VALUES(?, ?)", first+int64(i), h[:]); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	return tx.Commit()
}

// MarkPushed records that the server acknowledged objects.
func (d *DB) MarkPushed(ctx context.Context, kind object.Kind, ids ...object.ID) error {
	for _, id := range ids {
		if _, err := d.db.ExecContext(ctx, "INSERT INTO pushed(kind, id) VALUES(?, ?) ON CONFLICT DO NOTHING", kind, id[:]); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	return nil
}

// Unpushed lists the objects of kind the index names that the server has
// not acknowledged: keyrings, folders, or versions (oldest first).
func (d *DB) Unpushed(ctx context.Context, kind object.Kind) ([]object.ID, error) {
	var q string
	switch kind {
	case object.KindKeyring:
		q = "SELECT k.object_id FROM keyrings k WHERE NOT EXISTS (SELECT 1 FROM pushed p WHERE p.kind = 4 AND p.id = k.object_id) ORDER BY k.epoch"
	case object.KindFolder:
		q = "SELECT f.object_id FROM folders f WHERE NOT EXISTS (SELECT 1 FROM pushed p WHERE p.kind = 3 AND p.id = f.object_id) ORDER BY f.created_at"
	case object.KindManifest:
		q = "SELECT v.id FROM versions v WHERE NOT EXISTS (SELECT 1 FROM pushed p WHERE p.kind = 2 AND p.id = v.id) ORDER BY v.created_at, v.seq"
	default:
		return nil, fmt.Errorf("index: %v objects are not pushed from here", kind)
	}
	rows, err := d.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	var out []object.ID
	for rows.Next() {
		var b []byte
		var id object.ID
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		if err := scanID(&id, b); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// IsPushed reports whether the server acknowledged an object.
func (d *DB) IsPushed(ctx context.Context, kind object.Kind, id object.ID) (bool, error) {
	var n int
	err := d.db.QueryRowContext(ctx, "SELECT count(*) FROM pushed WHERE kind = ? AND id = ?", kind, id[:]).Scan(&n)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return n > 0, err
}

// FileByID returns a files row (a line) by its ID.
func (d *DB) FileByID(ctx context.Context, id object.ID) (File, error) {
	f, err := scanFile(d.db.QueryRowContext(ctx, fileQuery+" WHERE f.id = ?", id[:]))
	if err == sql.ErrNoRows {
		return f, fmt.Errorf("index: file: %w", ErrNotFound)
	}
	return f, err
}

// KeyringByObject returns the keyring row of a keyring object.
func (d *DB) KeyringByObject(ctx context.Context, id object.ID) (Keyring, error) {
	k := Keyring{ObjectID: id}
	var folder []byte
	err := d.db.QueryRowContext(ctx, `SELECT folder_id, epoch FROM keyrings WHERE object_id = ?1
		UNION ALL SELECT folder_id, epoch FROM keyring_copies WHERE object_id = ?1`, id[:]).Scan(&folder, &k.Epoch)
	if err == sql.ErrNoRows {
		return k, fmt.Errorf("index: keyring: %w", ErrNotFound)
	}
	if err != nil {
		return k, err
	}
	return k, scanID(&k.FolderID, folder)
}

// FolderByObject returns the folder row of a folder object.
func (d *DB) FolderByObject(ctx context.Context, id object.ID) (Folder, error) {
	f, err := scanFolder(d.db.QueryRowContext(ctx, "SELECT "+folderCols+" FROM folders WHERE object_id = ?", id[:]))
	if err == sql.ErrNoRows {
		return f, fmt.Errorf("index: folder: %w", ErrNotFound)
	}
	return f, err
}

// AuditAfter lists audit rows after seq, at most limit.
func (d *DB) AuditAfter(ctx context.Context, seq int64, limit int) ([]AuditRow, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT "+auditCols+" FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", seq, limit)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	var out []AuditRow
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ConflictLines counts the conflict lines of every file.
func (d *DB) ConflictLines(ctx context.Context) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, "SELECT count(*) FROM files WHERE origin IS NOT NULL").Scan(&n)
	return n, err
}

// ReplaceOrgView replaces the org log the index holds with a guest's view:
// entries at their indexes, no stored hashes (docs/sync-protocol.md,
// "Guests' view of the log").
func (d *DB) ReplaceOrgView(ctx context.Context, indexes []int64, entries [][]byte) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	for _, q := range []string{"DELETE FROM orglog", "DELETE FROM orglog_hashes"} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	for i, e := range entries {
		if _, err := tx.ExecContext(ctx, "INSERT INTO orglog(idx, entry) VALUES(?, ?)", indexes[i], e); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO meta(key, value) VALUES('org_view', X'31') ON CONFLICT(key) DO UPDATE SET value = excluded.value"); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return tx.Commit()
}

// OrgView returns a guest's view as the index holds it: indexes and
// entries in log order; ok is false for a vault that holds the whole log.
func (d *DB) OrgView(ctx context.Context) (indexes []int64, entries [][]byte, ok bool, err error) {
	var flag []byte
	err = d.db.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'org_view'").Scan(&flag)
	if err == sql.ErrNoRows {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("index: %w", err)
	}
	rows, err := d.db.QueryContext(ctx, "SELECT idx, entry FROM orglog ORDER BY idx")
	if err != nil {
		return nil, nil, false, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int64
		var b []byte
		if err := rows.Scan(&i, &b); err != nil {
			return nil, nil, false, err
		}
		indexes, entries = append(indexes, i), append(entries, b)
	}
	return indexes, entries, true, rows.Err()
}
