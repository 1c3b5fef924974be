package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/coffer-vault/coffer/vault/object"
)

// Folder is a row of the folders table.
type Folder struct {
	ID       object.ID
	ObjectID object.ID
	NameMAC  []byte
	Sealed   []byte
	Epoch    int
	Created  time.Time
}

// Keyring is a row of the keyrings table.
type Keyring struct {
	ObjectID object.ID
	FolderID object.ID
	Epoch    int
}

// File is a row of the files table — one line of a file's history — with
// its version count.
type File struct {
	ID       object.ID
	FolderID object.ID
	NameMAC  []byte
	Head     object.ID
	Versions int
	// Origin is the file ID its manifests carry: ID itself for a main
	// line, the file it forked from for a conflict line.
	Origin object.ID
	// Sealed is the sealed display name of a conflict line (nil for a
	// main line, whose name is its head version's).
	Sealed []byte
}

// Conflict reports whether the row is a conflict line.
func (f File) Conflict() bool { return f.Origin != f.ID }

// Version is a row of the versions table.
type Version struct {
	ID      object.ID
	FileID  object.ID
	Seq     int
	Parent  object.ID // zero for the first version
	Size    int64
	Created time.Time
	Sealed  []byte
}

// ChunkRef is one entry of a version's ordered chunk list.
type ChunkRef struct {
	ID   object.ID
	Size int64
}

// AuditRow is a row of the audit table: one link of the device's chain.
type AuditRow struct {
	Seq     int64
	At      time.Time
	Action  string
	Outcome string
	Sealed  []byte
	Prev    []byte
	Hash    []byte
	Signer  []byte
	Sig     []byte
}

func idOrNil(id object.ID) any {
	if id.IsZero() {
		return nil
	}
	return id[:]
}

func scanID(dst *object.ID, b []byte) error {
	if b == nil {
		*dst = object.ID{}
		return nil
	}
	if len(b) != object.IDSize {
		return fmt.Errorf("index: malformed ID of %d bytes", len(b))
	}
	copy(dst[:], b)
	return nil
}

// AddFolder inserts a folder and its first keyring in one transaction. It
// returns ErrExists if the name is taken.
func (d *DB) AddFolder(ctx context.Context, f Folder, k Keyring) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx,
		"INSERT INTO folders(id, object_id, name_mac, sealed, epoch, created_at) VALUES(?,?,?,?,?,?)",
		f.ID[:], f.ObjectID[:], f.NameMAC, f.Sealed, f.Epoch, f.Created.UnixNano())
	if isUnique(err) {
		return fmt.Errorf("index: folder: %w", ErrExists)
	}
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO keyrings(object_id, folder_id, epoch) VALUES(?,?,?)",
		k.ObjectID[:], k.FolderID[:], k.Epoch); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return tx.Commit()
}

const folderCols = "id, object_id, name_mac, sealed, epoch, created_at"

func scanFolder(sc interface{ Scan(...any) error }) (Folder, error) {
	var f Folder
	var id, obj []byte
	var created int64
	if err := sc.Scan(&id, &obj, &f.NameMAC, &f.Sealed, &f.Epoch, &created); err != nil {
		return f, err
	}
	f.Created = time.Unix(0, created).UTC()
	if err := scanID(&f.ID, id); err != nil {
		return f, err
	}
	return f, scanID(&f.ObjectID, obj)
}

// FolderByMAC finds a folder by the MAC of its name.
func (d *DB) FolderByMAC(ctx context.Context, mac []byte) (Folder, error) {
	f, err := scanFolder(d.db.QueryRowContext(ctx, "SELECT "+folderCols+" FROM folders WHERE name_mac = ?", mac))
	if errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("index: folder: %w", ErrNotFound)
	}
	return f, err
}

// FolderByID finds a folder by its ID.
func (d *DB) FolderByID(ctx context.Context, id object.ID) (Folder, error) {
	f, err := scanFolder(d.db.QueryRowContext(ctx, "SELECT "+folderCols+" FROM folders WHERE id = ?", id[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("index: folder: %w", ErrNotFound)
	}
	return f, err
}

// Folders lists every folder.
func (d *DB) Folders(ctx context.Context) ([]Folder, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT "+folderCols+" FROM folders ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	var out []Folder
	for rows.Next() {
		f, err := scanFolder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// Keyrings lists every keyring.
func (d *DB) Keyrings(ctx context.Context) ([]Keyring, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT object_id, folder_id, epoch FROM keyrings ORDER BY folder_id, epoch")
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	var out []Keyring
	for rows.Next() {
		var k Keyring
		var obj, folder []byte
		if err := rows.Scan(&obj, &folder, &k.Epoch); err != nil {
			return nil, err
		}
		if err := scanID(&k.ObjectID, obj); err != nil {
			return nil, err
		}
		if err := scanID(&k.FolderID, folder); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

const fileQuery = `SELECT f.id, f.folder_id, f.name_mac, f.head, f.origin, f.sealed,
	(SELECT count(*) FROM versions v WHERE v.file_id = f.id) FROM files f`

func scanFile(sc interface{ Scan(...any) error }) (File, error) {
	var f File
	var id, folder, head, origin []byte
	if err := sc.Scan(&id, &folder, &f.NameMAC, &head, &origin, &f.Sealed, &f.Versions); err != nil {
		return f, err
	}
	if err := scanID(&f.ID, id); err != nil {
		return f, err
	}
	if err := scanID(&f.FolderID, folder); err != nil {
		return f, err
	}
	f.Origin = f.ID
	if origin != nil {
		if err := scanID(&f.Origin, origin); err != nil {
			return f, err
		}
	}
	return f, scanID(&f.Head, head)
}

// FileByMAC finds a file of a folder by the MAC of its name.
func (d *DB) FileByMAC(ctx context.Context, folder object.ID, mac []byte) (File, error) {
	f, err := scanFile(d.db.QueryRowContext(ctx, fileQuery+" WHERE f.folder_id = ? AND f.name_mac = ?", folder[:], mac))
	if errors.Is(err, sql.ErrNoRows) {
		return f, fmt.Errorf("index: file: %w", ErrNotFound)
	}
	return f, err
}

// Files lists the files of a folder.
func (d *DB) Files(ctx context.Context, folder object.ID) ([]File, error) {
	rows, err := d.db.QueryContext(ctx, fileQuery+" WHERE f.folder_id = ?", folder[:])
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

const versionCols = "id, file_id, seq, parent, size, created_at, sealed"

func scanVersion(sc interface{ Scan(...any) error }) (Version, error) {
	var v Version
	var id, file, parent []byte
	var created int64
	if err := sc.Scan(&id, &file, &v.Seq, &parent, &v.Size, &created, &v.Sealed); err != nil {
		return v, err
	}
	v.Created = time.Unix(0, created).UTC()
	if err := scanID(&v.ID, id); err != nil {
		return v, err
	}
	if err := scanID(&v.FileID, file); err != nil {
		return v, err
	}
	return v, scanID(&v.Parent, parent)
}

// Version returns one version row.
func (d *DB) Version(ctx context.Context, id object.ID) (Version, error) {
	v, err := scanVersion(d.db.QueryRowContext(ctx, "SELECT "+versionCols+" FROM versions WHERE id = ?", id[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("index: version: %w", ErrNotFound)
	}
	return v, err
}

// Versions lists a file's versions, oldest first.
func (d *DB) Versions(ctx context.Context, file object.ID) ([]Version, error) {
	return d.versions(ctx, "WHERE file_id = ? ORDER BY seq", file[:])
}

// AllVersions lists every version of every file.
func (d *DB) AllVersions(ctx context.Context) ([]Version, error) {
	return d.versions(ctx, "ORDER BY file_id, seq")
}

func (d *DB) versions(ctx context.Context, where string, args ...any) ([]Version, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT "+versionCols+" FROM versions "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ChunkIDs returns the chunks stored for a folder's key epoch, with sizes.
func (d *DB) ChunkIDs(ctx context.Context, folder object.ID, epoch int) (map[object.ID]int64, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT id, size FROM chunks WHERE folder_id = ? AND epoch = ?", folder[:], epoch)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	out := map[object.ID]int64{}
	for rows.Next() {
		var b []byte
		var size int64
		var id object.ID
		if err := rows.Scan(&b, &size); err != nil {
			return nil, err
		}
		if err := scanID(&id, b); err != nil {
			return nil, err
		}
		out[id] = size
	}
	return out, rows.Err()
}

// ErrHeadMoved is returned by CommitVersion when the file's current version
// is no longer the new version's parent: another writer moved it first.
var ErrHeadMoved = errors.New("the file's current version changed meanwhile")

// CommitVersion records a new version of a file in one durable transaction:
// the file row (created when new, else its head moved), the version and its
// chunk list. The head moves by compare-and-swap: only if it still is the
// version's parent (ErrHeadMoved otherwise; a new file whose name another
// writer took meanwhile is ErrExists). A version already recorded — by
// another process that found its objects first — is not an error. The
// objects it names must be durably stored before this is called.
func (d *DB) CommitVersion(ctx context.Context, f File, v Version, epoch int, chunks []ChunkRef) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	var head []byte
	err = tx.QueryRowContext(ctx, "SELECT head FROM files WHERE id = ? AND folder_id = ?", f.ID[:], f.FolderID[:]).Scan(&head)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if !v.Parent.IsZero() {
			return fmt.Errorf("index: file %s: %w", f.ID.String()[:12], ErrHeadMoved)
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO files(id, folder_id, name_mac, head) VALUES(?,?,?,?)",
			f.ID[:], f.FolderID[:], f.NameMAC, v.ID[:])
		if isUnique(err) {
			return fmt.Errorf("index: file: %w", ErrExists)
		}
	case err != nil:
	case string(head) == string(v.ID[:]):
		return nil // recorded already
	case string(head) != string(v.Parent[:]):
		return fmt.Errorf("index: file %s: %w", f.ID.String()[:12], ErrHeadMoved)
	default:
		_, err = tx.ExecContext(ctx, "UPDATE files SET head = ? WHERE id = ?", v.ID[:], f.ID[:])
	}
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if err := insertVersion(ctx, tx, f, v, epoch, chunks); err != nil {
		return err
	}
	return tx.Commit()
}

// insertVersion inserts a version row, its chunks and its chunk list.
func insertVersion(ctx context.Context, tx *sql.Tx, f File, v Version, epoch int, chunks []ChunkRef) error {
	if _, err := tx.ExecContext(ctx, "INSERT INTO versions("+versionCols+") VALUES(?,?,?,?,?,?,?)",
		v.ID[:], f.ID[:], v.Seq, idOrNil(v.Parent), v.Size, v.Created.UnixNano(), v.Sealed); err != nil {
		if isUnique(err) {
			return fmt.Errorf("index: version %d: %w", v.Seq, ErrExists)
		}
		return fmt.Errorf("index: %w", err)
	}
	addChunk, err := tx.PrepareContext(ctx, "INSERT INTO chunks(id, folder_id, epoch, size) VALUES(?,?,?,?) ON CONFLICT(id) DO NOTHING")
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer addChunk.Close()
	addRef, err := tx.PrepareContext(ctx, "INSERT INTO version_chunks(version_id, idx, chunk_id) VALUES(?,?,?)")
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer addRef.Close()
	for i, c := range chunks {
		if _, err := addChunk.ExecContext(ctx, c.ID[:], f.FolderID[:], epoch, c.Size); err != nil {
			return fmt.Errorf("index: %w", err)
		}
		if _, err := addRef.ExecContext(ctx, v.ID[:], i, c.ID[:]); err != nil {
			return fmt.Errorf("index: %w", err)
		}
	}
	return nil
}

// AppendAudit appends the row that build makes from the current last row
// (nil when the log is empty), in one transaction, so that concurrent
// writers cannot fork the chain. It also records the new head in meta.
func (d *DB) AppendAudit(ctx context.Context, build func(last *AuditRow) (AuditRow, error)) (AuditRow, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return AuditRow{}, fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	var last *AuditRow
	r, err := scanAudit(tx.QueryRowContext(ctx, "SELECT "+auditCols+" FROM audit ORDER BY seq DESC LIMIT 1"))
	switch {
	case err == nil:
		last = &r
	case !errors.Is(err, sql.ErrNoRows):
		return AuditRow{}, fmt.Errorf("index: audit: %w", err)
	}
	row, err := build(last)
	if err != nil {
		return AuditRow{}, err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO audit("+auditCols+") VALUES(?,?,?,?,?,?,?,?,?)",
		row.Seq, row.At.UnixNano(), row.Action, row.Outcome, row.Sealed, row.Prev, row.Hash, row.Signer, row.Sig); err != nil {
		return AuditRow{}, fmt.Errorf("index: audit: %w", err)
	}
	return row, tx.Commit()
}

const auditCols = "seq, at, action, outcome, sealed, prev, hash, signer, sig"

func scanAudit(sc interface{ Scan(...any) error }) (AuditRow, error) {
	var r AuditRow
	var at int64
	err := sc.Scan(&r.Seq, &at, &r.Action, &r.Outcome, &r.Sealed, &r.Prev, &r.Hash, &r.Signer, &r.Sig)
	r.At = time.Unix(0, at).UTC()
	return r, err
}

// AuditAt returns the audit row with sequence number seq.
func (d *DB) AuditAt(ctx context.Context, seq int64) (AuditRow, error) {
	r, err := scanAudit(d.db.QueryRowContext(ctx, "SELECT "+auditCols+" FROM audit WHERE seq = ?", seq))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("index: audit entry %d: %w", seq, ErrNotFound)
	}
	return r, err
}

// LastAuditSeq returns the highest audit sequence number, 0 when empty.
func (d *DB) LastAuditSeq(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	err := d.db.QueryRowContext(ctx, "SELECT max(seq) FROM audit").Scan(&seq)
	return seq.Int64, err
}

// Audit lists audit rows in sequence order.
func (d *DB) Audit(ctx context.Context) ([]AuditRow, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT "+auditCols+" FROM audit ORDER BY seq")
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

// ChunkRow is a row of the chunks table.
type ChunkRow struct {
	FolderID object.ID
	Epoch    int
	Size     int64
}

// AllChunks returns every chunk the index knows.
func (d *DB) AllChunks(ctx context.Context) (map[object.ID]ChunkRow, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT id, folder_id, epoch, size FROM chunks")
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	out := map[object.ID]ChunkRow{}
	for rows.Next() {
		var id, folder []byte
		var c ChunkRow
		var cid object.ID
		if err := rows.Scan(&id, &folder, &c.Epoch, &c.Size); err != nil {
			return nil, err
		}
		if err := scanID(&cid, id); err != nil {
			return nil, err
		}
		if err := scanID(&c.FolderID, folder); err != nil {
			return nil, err
		}
		out[cid] = c
	}
	return out, rows.Err()
}

// VersionChunks returns a version's ordered chunk list.
func (d *DB) VersionChunks(ctx context.Context, version object.ID) ([]ChunkRef, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT vc.chunk_id, c.size FROM version_chunks vc
		JOIN chunks c ON c.id = vc.chunk_id WHERE vc.version_id = ? ORDER BY vc.idx`, version[:])
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer rows.Close()
	var out []ChunkRef
	for rows.Next() {
		var id []byte
		var c ChunkRef
		if err := rows.Scan(&id, &c.Size); err != nil {
			return nil, err
		}
		if err := scanID(&c.ID, id); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// AllFiles lists every file of every folder.
func (d *DB) AllFiles(ctx context.Context) ([]File, error) {
	rows, err := d.db.QueryContext(ctx, fileQuery)
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

// Source is a row of the sources table.
type Source struct {
	Key     []byte
	FileID  object.ID
	Version object.ID
	Sealed  []byte
}

// GetSource returns a remembered source file.
func (d *DB) GetSource(ctx context.Context, key []byte) (Source, error) {
	s := Source{Key: key}
	var file, ver []byte
	err := d.db.QueryRowContext(ctx, "SELECT file_id, version_id, sealed FROM sources WHERE key = ?", key).Scan(&file, &ver, &s.Sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("index: source: %w", ErrNotFound)
	}
	if err != nil {
		return s, err
	}
	if err := scanID(&s.FileID, file); err != nil {
		return s, err
	}
	return s, scanID(&s.Version, ver)
}

// PutSource remembers a source file.
func (d *DB) PutSource(ctx context.Context, s Source) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO sources(key, file_id, version_id, sealed) VALUES(?,?,?,?)
		ON CONFLICT(key) DO UPDATE SET file_id = excluded.file_id, version_id = excluded.version_id, sealed = excluded.sealed`,
		s.Key, s.FileID[:], s.Version[:], s.Sealed)
	return err
}

// LastAuditTime returns the time of the newest audit entry, or the zero time.
func (d *DB) LastAuditTime(ctx context.Context) (time.Time, error) {
	return d.LastAuditTimeAfter(ctx, 0)
}

// LastAuditTimeAfter returns the time of the newest audit entry after seq
// (the zero time if none).
func (d *DB) LastAuditTimeAfter(ctx context.Context, seq int64) (time.Time, error) {
	var at sql.NullInt64
	if err := d.db.QueryRowContext(ctx, "SELECT max(at) FROM audit WHERE seq > ?", seq).Scan(&at); err != nil {
		return time.Time{}, err
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return time.Unix(0, at.Int64).UTC(), nil
}

// DeleteVersions removes versions (never a file's head) with their chunk
// lists and remembered sources, then the chunks no version uses any more,
// in one transaction. It returns the removed chunk IDs, whose objects the
// caller deletes after the commit.
func (d *DB) DeleteVersions(ctx context.Context, ids []object.ID) ([]object.ID, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	defer tx.Rollback()
	for _, id := range ids {
		var heads int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM files WHERE head = ?", id[:]).Scan(&heads); err != nil {
			return nil, err
		}
		if heads > 0 {
			return nil, fmt.Errorf("index: version %s is current and cannot be removed", id.String()[:12])
		}
		for _, q := range []string{"DELETE FROM version_chunks WHERE version_id = ?", "DELETE FROM sources WHERE version_id = ?",
			"DELETE FROM versions WHERE id = ?"} {
			if _, err := tx.ExecContext(ctx, q, id[:]); err != nil {
				return nil, fmt.Errorf("index: %w", err)
			}
		}
	}
	rows, err := tx.QueryContext(ctx, "SELECT id FROM chunks WHERE id NOT IN (SELECT chunk_id FROM version_chunks)")
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	var orphans []object.ID
	for rows.Next() {
		var b []byte
		var id object.ID
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return nil, err
		}
		if err := scanID(&id, b); err != nil {
			rows.Close()
			return nil, err
		}
		orphans = append(orphans, id)
	}
	rows.Close()
	for _, id := range orphans {
		if _, err := tx.ExecContext(ctx, "DELETE FROM chunks WHERE id = ?", id[:]); err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
	}
	return orphans, tx.Commit()
}
