package scaleout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/vault/object"
)

func timeFromNano(n int64) time.Time { return time.Unix(0, n) }

// spaceArgs turns spaces into one bytea[] parameter.
func spaceArgs(spaces []object.ID) [][]byte {
	out := make([][]byte, len(spaces))
	for i := range spaces {
		out[i] = spaces[i][:]
	}
	return out
}

// Events implements store.Store.
func (s *Store) Events(ctx context.Context, after int64, spaces []object.ID, limit int) ([]store.Event, error) {
	return s.events(ctx, `SELECT seq, kind, id, space, file, parent, log FROM coffer_events
		WHERE seq > $1 AND (log > 0 OR space = ANY($2)) ORDER BY seq LIMIT $3`, after, spaceArgs(spaces), limit)
}

// AllEvents implements store.Store.
func (s *Store) AllEvents(ctx context.Context, after int64, limit int) ([]store.Event, error) {
	return s.events(ctx, "SELECT seq, kind, id, space, file, parent, log FROM coffer_events WHERE seq > $1 ORDER BY seq LIMIT $2", after, limit)
}

func (s *Store) events(ctx context.Context, q string, args ...any) ([]store.Event, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var out []store.Event
	var e store.Event
	var kind int16
	var id, space, file, parent []byte
	_, err = pgx.ForEachRow(rows, []any{&e.Seq, &kind, &id, &space, &file, &parent, &e.Log}, func() error {
		e.Kind = object.Kind(kind)
		e.ID, e.Space, e.File, e.Parent = scanID(id), scanID(space), scanID(file), scanID(parent)
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

// LastEvent implements store.Store.
func (s *Store) LastEvent(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM coffer_events").Scan(&n); err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return n, nil
}

// UseNonce implements store.Store. Expired nonces are cleared as it goes.
func (s *Store) UseNonce(ctx context.Context, keyID, nonce string, expires time.Time) error {
	if now := time.Now().Unix(); now-s.lastPurge.Load() >= 10 {
		s.lastPurge.Store(now)
		if _, err := s.db.Exec(ctx, "DELETE FROM coffer_nonces WHERE expires < $1", time.Now().Add(-time.Minute).Unix()); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	_, err := s.db.Exec(ctx, "INSERT INTO coffer_nonces(key, nonce, expires) VALUES($1,$2,$3)", keyID, nonce, expires.Unix())
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
	_, err := s.db.Exec(ctx, `INSERT INTO coffer_devices(device, last_seen, last_ip, os) VALUES($1,$2,$3,$4)
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
	err := s.db.QueryRow(ctx, "SELECT last_seen, last_ip, os, audit_seq, audit_hash, audit_flag FROM coffer_devices WHERE device = $1",
		device[:]).Scan(&seen, &d.LastIP, &d.OS, &d.AuditSeq, &d.AuditHash, &d.AuditFlag)
	if errors.Is(err, pgx.ErrNoRows) {
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

// AppendAudit implements store.Store. The device's row is locked (FOR
// UPDATE, or made) so that two servers appending to one chain at once
// cannot both pass the head check.
func (s *Store) AppendAudit(ctx context.Context, device object.ID, headSeq int64, headHash []byte, rows []store.AuditRow, b store.Batch) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO coffer_devices(device) VALUES($1) ON CONFLICT DO NOTHING", device[:]); err != nil {
			return err
		}
		var seq int64
		var hash []byte
		if err := tx.QueryRow(ctx, "SELECT audit_seq, audit_hash FROM coffer_devices WHERE device = $1 FOR UPDATE", device[:]).Scan(&seq, &hash); err != nil {
			return err
		}
		if seq != headSeq || string(hash) != string(headHash) {
			return fmt.Errorf("store: audit head of %s moved: %w", device.String()[:12], store.ErrConflict)
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, 0), pg_notify($2, '')", lockAudit, notifyChannel); err != nil {
			return err
		}
		var batch int64
		if err := tx.QueryRow(ctx, `INSERT INTO coffer_audit_batches(id, device, ip, at, details, details_sig)
			SELECT coalesce(max(id), 0) + 1, $1, $2, $3, $4, $5 FROM coffer_audit_batches RETURNING id`,
			device[:], b.IP, b.Time.UnixNano(), b.Details, b.DetailsSig).Scan(&batch); err != nil {
			return err
		}
		for _, r := range rows {
			if _, err := tx.Exec(ctx, "INSERT INTO coffer_audit(device, seq, at, action, outcome, sealed, prev, hash, sig, batch) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
				device[:], r.Seq, r.At, r.Action, r.Outcome, r.Sealed, r.Prev, r.Hash, r.Sig, batch); err != nil {
				return err
			}
		}
		if len(rows) > 0 {
			last := rows[len(rows)-1]
			if _, err := tx.Exec(ctx, "UPDATE coffer_devices SET audit_seq = $1, audit_hash = $2 WHERE device = $3", last.Seq, last.Hash, device[:]); err != nil {
				return err
			}
		}
		return nil
	})
}

// FlagDevice implements store.Store.
func (s *Store) FlagDevice(ctx context.Context, device object.ID, flag string) error {
	_, err := s.db.Exec(ctx, `INSERT INTO coffer_devices(device, audit_flag) VALUES($1,$2)
		ON CONFLICT(device) DO UPDATE SET audit_flag = excluded.audit_flag`, device[:], flag)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

func auditRows(rows pgx.Rows) ([]store.AuditRow, error) {
	var out []store.AuditRow
	var r store.AuditRow
	_, err := pgx.ForEachRow(rows, []any{&r.Seq, &r.At, &r.Action, &r.Outcome, &r.Sealed, &r.Prev, &r.Hash, &r.Sig}, func() error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

// AuditRows implements store.Store.
func (s *Store) AuditRows(ctx context.Context, device object.ID, after int64, limit int) ([]store.AuditRow, error) {
	rows, err := s.db.Query(ctx, `SELECT seq, at, action, outcome, sealed, prev, hash, sig FROM coffer_audit
		WHERE device = $1 AND seq > $2 ORDER BY seq LIMIT $3`, device[:], after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return auditRows(rows)
}

// AuditBatches implements store.Store.
func (s *Store) AuditBatches(ctx context.Context, after int64, limit int) ([]store.AuditBatch, error) {
	rows, err := s.db.Query(ctx, "SELECT id, device, ip, at, details, details_sig FROM coffer_audit_batches WHERE id > $1 ORDER BY id LIMIT $2", after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var out []store.AuditBatch
	var b store.AuditBatch
	var dev []byte
	var at int64
	_, err = pgx.ForEachRow(rows, []any{&b.ID, &dev, &b.IP, &at, &b.Details, &b.DetailsSig}, func() error {
		b.Device, b.Time = scanID(dev), time.Unix(0, at)
		out = append(out, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	for i := range out {
		rows, err := s.db.Query(ctx, "SELECT seq, at, action, outcome, sealed, prev, hash, sig FROM coffer_audit WHERE batch = $1 ORDER BY seq", out[i].ID)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		if out[i].Rows, err = auditRows(rows); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PutReceipt implements store.Store.
func (s *Store) PutReceipt(ctx context.Context, r store.StoredReceipt) error {
	_, err := s.db.Exec(ctx, "INSERT INTO coffer_receipts(device, ord, receipt, received) VALUES($1,$2,$3,$4)", r.Device[:], r.Order, r.Receipt, r.Received.UnixNano())
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
	if _, err := s.db.Exec(ctx, "UPDATE coffer_receipts SET copies = copies + 1 WHERE device = $1 AND ord = $2", device[:], order); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// ReceiptsOf implements store.Store.
func (s *Store) ReceiptsOf(ctx context.Context, device object.ID) ([]store.StoredReceipt, error) {
	return s.receipts(ctx, "SELECT device, ord, receipt, received, copies FROM coffer_receipts WHERE device = $1 ORDER BY received", device[:])
}

// Receipts implements store.Store.
func (s *Store) Receipts(ctx context.Context) ([]store.StoredReceipt, error) {
	return s.receipts(ctx, "SELECT device, ord, receipt, received, copies FROM coffer_receipts ORDER BY received")
}

func (s *Store) receipts(ctx context.Context, q string, args ...any) ([]store.StoredReceipt, error) {
	rows, err := s.db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	var out []store.StoredReceipt
	var r store.StoredReceipt
	var dev []byte
	var at int64
	var copies int32
	_, err = pgx.ForEachRow(rows, []any{&dev, &r.Order, &r.Receipt, &at, &copies}, func() error {
		r.Device, r.Received, r.Copies = scanID(dev), time.Unix(0, at), int(copies)
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

// PutPairing implements store.Store: the count and the insert under a
// lock per e-mail address, so servers adding at once never pass max.
func (s *Store) PutPairing(ctx context.Context, p store.Pairing, now time.Time, max int) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", lockPairings, p.Email); err != nil {
			return err
		}
		var waiting int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM coffer_pairings WHERE email = $1 AND bundle IS NULL AND expires > $2",
			p.Email, now.Unix()).Scan(&waiting); err != nil {
			return err
		}
		if waiting >= max {
			return fmt.Errorf("store: pairing: %d waiting for %s: %w", max, p.Email, store.ErrFull)
		}
		_, err := tx.Exec(ctx, "INSERT INTO coffer_pairings(id, email, request, expires) VALUES($1,$2,$3,$4)", p.ID[:], p.Email, p.Request, p.Expires.Unix())
		if isUnique(err) {
			return fmt.Errorf("store: pairing: %w", store.ErrExists)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM coffer_pairings WHERE expires <= $1", now.Add(-store.PairingKept).Unix())
		return err
	})
}

func scanPairing(sc pgx.Row) (store.Pairing, error) {
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
	p, err := scanPairing(s.db.QueryRow(ctx, "SELECT id, email, request, expires, bundle FROM coffer_pairings WHERE id = $1", id[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("store: pairing: %w", store.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("store: %w", err)
	}
	return p, nil
}

// Pairings implements store.Store: the unanswered, unexpired requests of
// email.
func (s *Store) Pairings(ctx context.Context, email string, now time.Time) ([]store.Pairing, error) {
	rows, err := s.db.Query(ctx, `SELECT id, email, request, expires, bundle FROM coffer_pairings
		WHERE email = $1 AND bundle IS NULL AND expires > $2 ORDER BY expires`, email, now.Unix())
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Pairing, error) { return scanPairing(r) })
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

// AnswerPairing implements store.Store.
func (s *Store) AnswerPairing(ctx context.Context, id object.ID, bundle []byte) error {
	tag, err := s.db.Exec(ctx, "UPDATE coffer_pairings SET bundle = $1 WHERE id = $2 AND bundle IS NULL", bundle, id[:])
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: pairing: %w", store.ErrConflict)
	}
	return nil
}
