package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/coffer-vault/coffer/vault/object"
)

// This file holds what the vault needs to compare the index with the
// signed objects and to put back what they say: the object IDs the index
// names, and inserts that do not assume the index is complete.

// ErrFork is returned by RecordVersion for a version whose place in its
// file's history is taken by another version with the same parent.
var ErrFork = errors.New("another version already follows the same parent")

// ObjectIDs returns the IDs of the objects of kind that the index names:
// keyring, folder and manifest objects (versions).
func (d *DB) ObjectIDs(ctx context.Context, kind object.Kind) (map[object.ID]bool, error) {
	var q string
	switch kind {
	case object.KindKeyring:
		q = "SELECT object_id FROM keyrings UNION ALL SELECT object_id FROM keyring_copies"
	case object.KindFolder:
		q = "SELECT object_id FROM folders"
	case object.KindManifest:
		q = "SELECT id FROM versions"
	default:
		return nil, fmt.Errorf("index: no rows name %v objects", kind)
	}
	rows, err := d.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	out := map[object.ID]bool{}
	for rows.Next() {
		var b []byte
		var id object.ID
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		if err := scanID(&id, b); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// NamedChunks returns every chunk the index names: those of the chunks
// table and those any version's chunk list refers to (the same set in an
// index nobody edited).
func (d *DB) NamedChunks(ctx context.Context) (map[object.ID]bool, error) {
	ids, err := d.ids(ctx, "SELECT id FROM chunks UNION SELECT chunk_id FROM version_chunks")
	if err != nil {
		return nil, err
	}
	out := make(map[object.ID]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// AddKeyring records a keyring object and raises its folder's current
// epoch to the keyring's if it is higher (a rotation). A keyring already
// recorded is not an error; a second one of the same folder and epoch (the
// same key, wrapped again) is recorded as a copy. It reports whether the
// keyring was recorded anew as its folder epoch's keyring.
func (d *DB) AddKeyring(ctx context.Context, k Keyring) (bool, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "INSERT INTO keyrings(object_id, folder_id, epoch) VALUES(?,?,?) ON CONFLICT DO NOTHING",
		k.ObjectID[:], k.FolderID[:], k.Epoch)
	if err != nil {
		return false, fmt.Errorf("index: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("index: %w", err)
	}
	if n == 0 {
		// Recorded already, or another wrap of this folder epoch's key.
		if _, err := tx.ExecContext(ctx, `INSERT INTO keyring_copies(object_id, folder_id, epoch)
			SELECT ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM keyrings WHERE object_id = ?) ON CONFLICT DO NOTHING`,
			k.ObjectID[:], k.FolderID[:], k.Epoch, k.ObjectID[:]); err != nil {
			return false, fmt.Errorf("index: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE folders SET epoch = ? WHERE id = ? AND epoch < ?", k.Epoch, k.FolderID[:], k.Epoch); err != nil {
		return false, fmt.Errorf("index: %w", err)
	}
	return n > 0, tx.Commit()
}

// KeyringCopies lists the further wraps of a folder epoch's key
// (AddKeyring).
func (d *DB) KeyringCopies(ctx context.Context, folder object.ID, epoch int) ([]object.ID, error) {
	return d.ids(ctx, "SELECT object_id FROM keyring_copies WHERE folder_id = ? AND epoch = ? ORDER BY object_id", folder[:], epoch)
}

// FolderObjects lists the objects the index records for a folder: its
// keyrings, its folder object, its versions' manifests and its chunks.
func (d *DB) FolderObjects(ctx context.Context, folder object.ID) (keyrings, folders, manifests, chunks []object.ID, err error) {
	for _, q := range []struct {
		sql string
		out *[]object.ID
	}{
		{"SELECT object_id FROM keyrings WHERE folder_id = ?1 UNION ALL SELECT object_id FROM keyring_copies WHERE folder_id = ?1", &keyrings},
		{"SELECT object_id FROM folders WHERE id = ?", &folders},
		{"SELECT v.id FROM versions v JOIN files f ON f.id = v.file_id WHERE f.folder_id = ?", &manifests},
		{"SELECT id FROM chunks WHERE folder_id = ?", &chunks},
	} {
		if *q.out, err = d.ids(ctx, q.sql, folder[:]); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	return keyrings, folders, manifests, chunks, nil
}

func (d *DB) ids(ctx context.Context, q string, args ...any) ([]object.ID, error) {
	rows, err := d.db.QueryContext(ctx, q, args...)
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

// DeleteFolder removes a folder and everything the index records of it,
// in one transaction (its objects are the caller's to remove).
func (d *DB) DeleteFolder(ctx context.Context, folder object.ID) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	f := folder[:]
	for _, q := range []string{
		"DELETE FROM sources WHERE file_id IN (SELECT id FROM files WHERE folder_id = ?)",
		"DELETE FROM version_chunks WHERE version_id IN (SELECT v.id FROM versions v JOIN files f ON f.id = v.file_id WHERE f.folder_id = ?)",
		"DELETE FROM pushed WHERE kind = 2 AND id IN (SELECT v.id FROM versions v JOIN files f ON f.id = v.file_id WHERE f.folder_id = ?)",
		"DELETE FROM versions WHERE file_id IN (SELECT id FROM files WHERE folder_id = ?)",
		"DELETE FROM files WHERE folder_id = ?",
		"DELETE FROM chunks WHERE folder_id = ?",
		"DELETE FROM pushed WHERE kind = 4 AND id IN (SELECT object_id FROM keyrings WHERE folder_id = ?)",
		"DELETE FROM keyrings WHERE folder_id = ?",
		"DELETE FROM pushed WHERE kind = 4 AND id IN (SELECT object_id FROM keyring_copies WHERE folder_id = ?)",
		"DELETE FROM keyring_copies WHERE folder_id = ?",
		"DELETE FROM pushed WHERE kind = 3 AND id IN (SELECT object_id FROM folders WHERE id = ?)",
		"DELETE FROM folders WHERE id = ?",
	} {
		if _, err := tx.ExecContext(ctx, q, f); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	return tx.Commit()
}

// AddFolderRow records a folder whose keyrings are recorded separately. It
// returns ErrExists if the folder or its name is already there.
func (d *DB) AddFolderRow(ctx context.Context, f Folder) error {
	_, err := d.db.ExecContext(ctx,
		"INSERT INTO folders(id, object_id, name_mac, sealed, epoch, created_at) VALUES(?,?,?,?,?,?)",
		f.ID[:], f.ObjectID[:], f.NameMAC, f.Sealed, f.Epoch, f.Created.UnixNano())
	if isUnique(err) {
		return fmt.Errorf("index: folder: %w", ErrExists)
	}
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

// RecordVersion records a version found among the signed objects that the
// index did not list. The file row is made when missing (its head the new
// version); an existing head moves to the version only when the version
// follows it. A version whose seq is taken by another version of the file
// is ErrFork; one already recorded is not an error.
func (d *DB) RecordVersion(ctx context.Context, f File, v Version, epoch int, chunks []ChunkRef) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM versions WHERE id = ?", v.ID[:]).Scan(&n); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if n > 0 {
		return nil
	}
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM versions WHERE file_id = ? AND seq = ?", f.ID[:], v.Seq).Scan(&n); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("index: file %s version %d: %w", f.ID.String()[:12], v.Seq, ErrFork)
	}
	var head []byte
	err = tx.QueryRowContext(ctx, "SELECT head FROM files WHERE id = ?", f.ID[:]).Scan(&head)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = tx.ExecContext(ctx, "INSERT INTO files(id, folder_id, name_mac, head) VALUES(?,?,?,?)",
			f.ID[:], f.FolderID[:], f.NameMAC, v.ID[:])
		if isUnique(err) {
			return fmt.Errorf("index: file: %w", ErrExists)
		}
	case err == nil && !v.Parent.IsZero() && string(head) == string(v.Parent[:]):
		_, err = tx.ExecContext(ctx, "UPDATE files SET head = ?, name_mac = ? WHERE id = ?", v.ID[:], f.NameMAC, f.ID[:])
	}
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if err := insertVersion(ctx, tx, f, v, epoch, chunks); err != nil {
		return err
	}
	return tx.Commit()
}

// StaleHead is a file whose head is followed by another version: the index
// points it back at an older version than its history holds.
type StaleHead struct {
	File  object.ID
	Head  object.ID
	Child object.ID
}

// StaleHeads lists files whose head has a child version.
func (d *DB) StaleHeads(ctx context.Context) ([]StaleHead, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT f.id, f.head, v.id FROM files f
		JOIN versions v ON v.file_id = f.id AND v.parent = f.head`)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	var out []StaleHead
	for rows.Next() {
		var f, h, c []byte
		var s StaleHead
		if err := rows.Scan(&f, &h, &c); err != nil {
			return nil, err
		}
		if err := errors.Join(scanID(&s.File, f), scanID(&s.Head, h), scanID(&s.Child, c)); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// SetHead moves a file's head.
func (d *DB) SetHead(ctx context.Context, file, head object.ID) error {
	_, err := d.db.ExecContext(ctx, "UPDATE files SET head = ? WHERE id = ?", head[:], file[:])
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

// InsertAudit copies audit rows as they are into an empty audit table: an
// index being rebuilt keeps the chain of the one it replaces.
func (d *DB) InsertAudit(ctx context.Context, rows []AuditRow) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, "INSERT INTO audit("+auditCols+") VALUES(?,?,?,?,?,?,?,?,?)",
			r.Seq, r.At.UnixNano(), r.Action, r.Outcome, r.Sealed, r.Prev, r.Hash, r.Signer, r.Sig); err != nil {
			return fmt.Errorf("index: audit: %w", err)
		}
	}
	return tx.Commit()
}

// OriginVersions lists every version of the signed file origin, whichever
// line it is listed under, with the lines (files rows) of origin.
func (d *DB) OriginVersions(ctx context.Context, origin object.ID) ([]Version, []File, error) {
	files, err := d.filesWhere(ctx, " WHERE f.id = ? OR f.origin = ?", origin[:], origin[:])
	if err != nil {
		return nil, nil, err
	}
	vers, err := d.versions(ctx, "WHERE file_id IN (SELECT id FROM files WHERE id = ? OR origin = ?) ORDER BY seq, created_at", origin[:], origin[:])
	return vers, files, err
}

func (d *DB) filesWhere(ctx context.Context, where string, args ...any) ([]File, error) {
	rows, err := d.db.QueryContext(ctx, fileQuery+where, args...)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	var out []File
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Line is one files row of a signed file as the vault lays the file out.
type Line struct {
	ID      object.ID // the origin for the main line, else the line's first manifest ID
	Head    object.ID
	NameMAC []byte
	Sealed  []byte       // sealed display name, or nil when it is the head's manifest name
	Members []object.ID  // the versions listed under this line
	Added   []NewVersion // versions not in the index yet, listed under this line
}

// NewVersion is a version to record with its chunk list.
type NewVersion struct {
	Version Version
	Epoch   int
	Chunks  []ChunkRef
}

// LayoutFile replaces the lines of the signed file origin in one
// transaction: new versions are recorded, every version is listed under
// its line, and the files rows of origin become lines. Remembered sources
// of lines that no longer exist are forgotten. It returns ErrExists if a
// line's name is taken by another file of the folder.
func (d *DB) LayoutFile(ctx context.Context, folder, origin object.ID, lines []Line) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	// Rows are moved between lines: foreign keys are checked at commit.
	if _, err := tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	var members [][]byte
	for _, l := range lines {
		for _, id := range l.Members {
			members = append(members, id[:])
		}
	}
	// Step one: every member on a line of its own ID, so that no move
	// below meets a (line, seq) pair still held by a row about to leave.
	for _, id := range members {
		if _, err := tx.ExecContext(ctx, "UPDATE versions SET file_id = id WHERE id = ?", id); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM files WHERE id = ? OR origin = ?", origin[:], origin[:]); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	for _, l := range lines {
		var originCol any
		if l.ID != origin {
			originCol = origin[:]
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO files(id, folder_id, name_mac, head, origin, sealed) VALUES(?,?,?,?,?,?)",
			l.ID[:], folder[:], l.NameMAC, l.Head[:], originCol, l.Sealed)
		if isUnique(err) {
			return fmt.Errorf("index: line name: %w", ErrExists)
		}
		if err != nil {
			return fmt.Errorf("index: %w", err)
		}
		for _, nv := range l.Added {
			nv.Version.FileID = l.ID
			f := File{ID: l.ID, FolderID: folder}
			if err := insertVersion(ctx, tx, f, nv.Version, nv.Epoch, nv.Chunks); err != nil {
				return err
			}
		}
		for _, id := range l.Members {
			if _, err := tx.ExecContext(ctx, "UPDATE versions SET file_id = ? WHERE id = ?", l.ID[:], id[:]); err != nil {
				if isUnique(err) {
					return fmt.Errorf("index: two versions of one line share a number: %w", ErrExists)
				}
				return fmt.Errorf("index: %w", err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM sources WHERE file_id NOT IN (SELECT id FROM files)"); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return tx.Commit()
}

// SetFolderObject points a folder at another folder object (a class
// change) with its sealed name and class.
func (d *DB) SetFolderObject(ctx context.Context, folder, obj object.ID, sealed []byte) error {
	res, err := d.db.ExecContext(ctx, "UPDATE folders SET object_id = ?, sealed = ? WHERE id = ?", obj[:], sealed, folder[:])
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("index: folder: %w", ErrNotFound)
	}
	return nil
}
