package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/vault/object"
)

// maxSpaces bounds the spaces of one feed query (SQLite's bound on
// parameters is 32766).
const maxSpaces = 30000

// Events implements store.Store.
func (s *Store) Events(ctx context.Context, after int64, spaces []object.ID, limit int) ([]store.Event, error) {
	if len(spaces) > maxSpaces {
		return nil, fmt.Errorf("store: a feed of %d spaces is over the %d this store serves", len(spaces), maxSpaces)
	}
	args := []any{after}
	in := make([]string, len(spaces))
	for i, sp := range spaces {
		in[i] = "?"
		args = append(args, sp[:])
	}
	args = append(args, limit)
	q := "SELECT seq, kind, id, space, file, parent, log FROM events WHERE seq > ? AND (log > 0"
	if len(spaces) > 0 {
		q += " OR space IN (" + strings.Join(in, ",") + ")"
	}
	q += ") ORDER BY seq LIMIT ?"
	return s.events(ctx, q, args...)
}

// AllEvents implements store.Store.
func (s *Store) AllEvents(ctx context.Context, after int64, limit int) ([]store.Event, error) {
	return s.events(ctx, "SELECT seq, kind, id, space, file, parent, log FROM events WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)
}

func (s *Store) events(ctx context.Context, q string, args ...any) ([]store.Event, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var e store.Event
		var id, space, file, parent []byte
		if err := rows.Scan(&e.Seq, &e.Kind, &id, &space, &file, &parent, &e.Log); err != nil {
			return nil, err
		}
		e.ID, e.Space, e.File, e.Parent = scanID(id), scanID(space), scanID(file), scanID(parent)
		out = append(out, e)
	}
	return out, rows.Err()
}

// LastEvent implements store.Store.
func (s *Store) LastEvent(ctx context.Context) (int64, error) {
	var n sql.NullInt64
	err := s.db.QueryRowContext(ctx, "SELECT max(seq) FROM events").Scan(&n)
	return n.Int64, err
}

// UseNonce implements store.Store. Expired nonces are cleared as it goes.
func (s *Store) UseNonce(ctx context.Context, keyID, nonce string, expires time.Time) error {
	if now := time.Now().Unix(); now-s.lastPurge.Load() >= 10 {
		s.lastPurge.Store(now)
		if _, err := s.fast.ExecContext(ctx, "DELETE FROM nonces WHERE expires < ?", time.Now().Add(-time.Minute).Unix()); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	_, err := s.fast.ExecContext(ctx, "INSERT INTO nonces(key, nonce, expires) VALUES(?,?,?)", keyID, nonce, expires.Unix())
	if isUnique(err) {
		return store.ErrReplay
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// TouchDevice implements store.Store.
func (s *Store) TouchDevice(ctx context.Context, device object.ID, ip, os string, at time.Time) error {
	_, err := s.fast.ExecContext(ctx, `INSERT INTO devices(device, last_seen, last_ip, os) VALUES(?,?,?,?)
		ON CONFLICT(device) DO UPDATE SET last_seen = excluded.last_seen, last_ip = excluded.last_ip, os = excluded.os`, device[:], at.Unix(), ip, os)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// Device implements store.Store.
func (s *Store) Device(ctx context.Context, device object.ID) (store.DeviceRuntime, error) {
	var d store.DeviceRuntime
	var seen int64
	err := s.db.QueryRowContext(ctx, "SELECT last_seen, last_ip, os, audit_seq, audit_hash, audit_flag FROM devices WHERE device = ?",
		device[:]).Scan(&seen, &d.LastIP, &d.OS, &d.AuditSeq, &d.AuditHash, &d.AuditFlag)
	if errors.Is(err, sql.ErrNoRows) {
		return d, nil
	}
	if err != nil {
		return d, fmt.Errorf("store: %w", err)
	}
	if seen > 0 {
		d.LastSeen = time.Unix(seen, 0)
	}
	return d, nil
}

// AppendAudit implements store.Store.
func (s *Store) AppendAudit(ctx context.Context, device object.ID, headSeq int64, headHash []byte, rows []store.AuditRow, b store.Batch) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	var seq int64
	var hash []byte
	err = tx.QueryRowContext(ctx, "SELECT audit_seq, audit_hash FROM devices WHERE device = ?", device[:]).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if seq != headSeq || string(hash) != string(headHash) {
		return fmt.Errorf("store: audit head of %s moved: %w", device.String()[:12], store.ErrConflict)
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO audit_batches(device, ip, at, details, details_sig) VALUES(?,?,?,?,?)",
		device[:], b.IP, b.Time.UnixNano(), b.Details, b.DetailsSig)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	batch, _ := res.LastInsertId()
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, "INSERT INTO audit(device, seq, at, action, outcome, sealed, prev, hash, sig, batch) VALUES(?,?,?,?,?,?,?,?,?,?)",
			device[:], r.Seq, r.At, r.Action, r.Outcome, r.Sealed, r.Prev, r.Hash, r.Sig, batch); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	if len(rows) > 0 {
		last := rows[len(rows)-1]
		if _, err := tx.ExecContext(ctx, `INSERT INTO devices(device, audit_seq, audit_hash) VALUES(?,?,?)
			ON CONFLICT(device) DO UPDATE SET audit_seq = excluded.audit_seq, audit_hash = excluded.audit_hash`,
			device[:], last.Seq, last.Hash); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return tx.Commit()
}

// FlagDevice implements store.Store.
func (s *Store) FlagDevice(ctx context.Context, device object.ID, flag string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO devices(device, audit_flag) VALUES(?,?)
		ON CONFLICT(device) DO UPDATE SET audit_flag = excluded.audit_flag`, device[:], flag)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// AuditRows implements store.Store.
func (s *Store) AuditRows(ctx context.Context, device object.ID, after int64, limit int) ([]store.AuditRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, at, action, outcome, sealed, prev, hash, sig FROM audit
		WHERE device = ? AND seq > ? ORDER BY seq LIMIT ?`, device[:], after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []store.AuditRow
	for rows.Next() {
		var r store.AuditRow
		if err := rows.Scan(&r.Seq, &r.At, &r.Action, &r.Outcome, &r.Sealed, &r.Prev, &r.Hash, &r.Sig); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PutPairing implements store.Store.
// One statement counts and inserts: SQLite runs it as one write.
func (s *Store) PutPairing(ctx context.Context, p store.Pairing, now time.Time, max int) error {
	res, err := s.db.ExecContext(ctx, `INSERT INTO pairings(id, email, request, expires)
		SELECT ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM pairings
			WHERE email = ? AND bundle IS NULL AND expires > ?) < ?`,
		p.ID[:], p.Email, p.Request, p.Expires.Unix(), p.Email, now.Unix(), max)
	if isUnique(err) {
		return fmt.Errorf("store: pairing: %w", store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: pairing: %d waiting for %s: %w", max, p.Email, store.ErrFull)
	}
	if _, err := s.db.ExecContext(ctx, "DELETE FROM pairings WHERE expires <= ?", now.Add(-store.PairingKept).Unix()); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

func scanPairing(sc interface{ Scan(...any) error }) (store.Pairing, error) {
	var p store.Pairing
	var id []byte
	var exp int64
	if err := sc.Scan(&id, &p.Email, &p.Request, &exp, &p.Bundle); err != nil {
		return p, err
	}
	p.ID, p.Expires = scanID(id), time.Unix(exp, 0)
	return p, nil
}

// GetPairing implements store.Store.
func (s *Store) GetPairing(ctx context.Context, id object.ID) (store.Pairing, error) {
	p, err := scanPairing(s.db.QueryRowContext(ctx, "SELECT id, email, request, expires, bundle FROM pairings WHERE id = ?", id[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("store: pairing: %w", store.ErrNotFound)
	}
	return p, err
}

// Pairings implements store.Store: the unanswered, unexpired requests of
// email.
func (s *Store) Pairings(ctx context.Context, email string, now time.Time) ([]store.Pairing, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, email, request, expires, bundle FROM pairings
		WHERE email = ? AND bundle IS NULL AND expires > ? ORDER BY expires`, email, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []store.Pairing
	for rows.Next() {
		p, err := scanPairing(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// AnswerPairing implements store.Store.
func (s *Store) AnswerPairing(ctx context.Context, id object.ID, bundle []byte) error {
	res, err := s.db.ExecContext(ctx, "UPDATE pairings SET bundle = ? WHERE id = ? AND bundle IS NULL", bundle, id[:])
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: pairing: %w", store.ErrConflict)
	}
	return nil
}

// AuditBatches implements store.Store.
func (s *Store) AuditBatches(ctx context.Context, after int64, limit int) ([]store.AuditBatch, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, device, ip, at, details, details_sig FROM audit_batches WHERE id > ? ORDER BY id LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var out []store.AuditBatch
	for rows.Next() {
		var b store.AuditBatch
		var dev []byte
		var at int64
		if err := rows.Scan(&b.ID, &dev, &b.IP, &at, &b.Details, &b.DetailsSig); err != nil {
			rows.Close()
			return nil, err
		}
		b.Device, b.Time = scanID(dev), time.Unix(0, at)
		out = append(out, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		rs, err := s.db.QueryContext(ctx, "SELECT seq, at, action, outcome, sealed, prev, hash, sig FROM audit WHERE batch = ? ORDER BY seq", out[i].ID)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		for rs.Next() {
			var r store.AuditRow
			if err := rs.Scan(&r.Seq, &r.At, &r.Action, &r.Outcome, &r.Sealed, &r.Prev, &r.Hash, &r.Sig); err != nil {
				rs.Close()
				return nil, err
			}
			out[i].Rows = append(out[i].Rows, r)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PutReceipt implements store.Store.
func (s *Store) PutReceipt(ctx context.Context, r store.StoredReceipt) error {
	_, err := s.db.ExecContext(ctx, "INSERT INTO receipts(device, ord, receipt, received) VALUES(?,?,?,?)", r.Device[:], r.Order, r.Receipt, r.Received.UnixNano())
	if isUnique(err) {
		return fmt.Errorf("store: receipt of %s: %w", r.Device.String()[:12], store.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// AddReceiptCopy implements store.Store.
func (s *Store) AddReceiptCopy(ctx context.Context, device object.ID, order string) error {
	if _, err := s.db.ExecContext(ctx, "UPDATE receipts SET copies = copies + 1 WHERE device = ? AND ord = ?", device[:], order); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// ReceiptsOf implements store.Store.
func (s *Store) ReceiptsOf(ctx context.Context, device object.ID) ([]store.StoredReceipt, error) {
	return s.receipts(ctx, "SELECT device, ord, receipt, received, copies FROM receipts WHERE device = ? ORDER BY received", device[:])
}

// Receipts implements store.Store.
func (s *Store) Receipts(ctx context.Context) ([]store.StoredReceipt, error) {
	return s.receipts(ctx, "SELECT device, ord, receipt, received, copies FROM receipts ORDER BY received")
}

func (s *Store) receipts(ctx context.Context, q string, args ...any) ([]store.StoredReceipt, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []store.StoredReceipt
	for rows.Next() {
		var r store.StoredReceipt
		var dev []byte
		var at int64
		if err := rows.Scan(&dev, &r.Order, &r.Receipt, &at, &r.Copies); err != nil {
			return nil, err
		}
		r.Device, r.Received = scanID(dev), time.Unix(0, at)
		out = append(out, r)
	}
	return out, rows.Err()
}
