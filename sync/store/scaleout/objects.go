package scaleout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/minio/minio-go/v7"

	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/vault/object"
)

// putBlob uploads data under a new key and returns it.
func (s *Store) putBlob(ctx context.Context, kind object.Kind, id object.ID, data []byte) (string, error) {
	key, err := blobKey(kind, id)
	if err != nil {
		return "", err
	}
	_, err = s.s3.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{
		ContentType:      "application/octet-stream",
		DisableMultipart: true, // at most object.MaxSize: one request, whole or absent
		SendContentMd5:   true, // the server checks what it got
	})
	if err != nil {
		return "", fmt.Errorf("store: s3 put: %w", err)
	}
	return key, nil
}

// dropBlob removes an upload no row names (it lost a race); a failure
// leaves it, unnamed and never read.
func (s *Store) dropBlob(ctx context.Context, key string) {
	_ = s.s3.RemoveObject(context.WithoutCancel(ctx), s.bucket, key, minio.RemoveObjectOptions{})
}

// PutObject implements store.Store: the blob goes to a key of its own,
// then the row naming it is inserted if absent; a row there already wins
// and the upload is removed.
func (s *Store) PutObject(ctx context.Context, m store.ObjectMeta, data []byte) (bool, error) {
	if _, err := s.StatObject(ctx, m.Kind, m.ID); err == nil {
		return false, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	key, err := s.putBlob(ctx, m.Kind, m.ID, data)
	if err != nil {
		return false, err
	}
	if m.Stored.IsZero() {
		m.Stored = now()
	}
	inserted, committing := false, false
	err = s.tx(ctx, func(tx pgx.Tx) error {
		if m.Kind != object.KindChunk {
			// Chunks are not events: an upload of chunks takes no lock.
			if err := takeEventLock(ctx, tx); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO coffer_objects(kind, id, space, size, device, file, parent, seq, stored, blob)
			VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT DO NOTHING`,
			int16(m.Kind), m.ID[:], m.Space[:], int64(len(data)), m.Device[:], idOrNil(m.File), idOrNil(m.Parent), m.Seq, m.Stored.UnixNano(), key)
		if err != nil {
			return err
		}
		inserted = tag.RowsAffected() == 1
		if inserted && m.Kind != object.KindChunk {
			err = addEvent(ctx, tx, store.Event{Kind: m.Kind, ID: m.ID, Space: m.Space, File: m.File, Parent: m.Parent})
		}
		committing = err == nil
		return err
	})
	switch {
	case err == nil && inserted:
		return true, nil
	case err == nil:
		s.dropBlob(ctx, key) // another upload's row was there
		return false, nil
	case !committing:
		s.dropBlob(ctx, key) // rolled back: no row names it
		return false, err
	}
	// The commit's answer is lost: the row decides.
	if _, got, serr := s.stat(context.WithoutCancel(ctx), m.Kind, m.ID); serr == nil && got == key {
		return true, nil
	}
	return false, err
}

// RepairLost implements store.Store: the new bytes go to a key of their
// own, and the row is moved to it only if it still names the lost one.
func (s *Store) RepairLost(ctx context.Context, kind object.Kind, id object.ID, data []byte) (bool, error) {
	m, old, err := s.stat(ctx, kind, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && m.Size != int64(len(data))) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := s.getBlob(ctx, m, old); !errors.Is(err, store.ErrLost) {
		return false, nil // whole, or unreadable now: not known to be lost
	}
	key, err := s.putBlob(ctx, kind, id, data)
	if err != nil {
		return false, err
	}
	tag, err := s.db.Exec(ctx, "UPDATE coffer_objects SET blob = $1 WHERE kind = $2 AND id = $3 AND blob = $4", key, int16(kind), id[:], old)
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	if tag.RowsAffected() == 0 {
		s.dropBlob(ctx, key) // repaired by another upload meanwhile
		return false, nil
	}
	s.dropBlob(ctx, old) // a short blob, if one was there
	return true, nil
}

// stat returns the metadata of (kind, id) and its blob's key.
func (s *Store) stat(ctx context.Context, kind object.Kind, id object.ID) (store.ObjectMeta, string, error) {
	m := store.ObjectMeta{Kind: kind, ID: id}
	var space, device, file, parent []byte
	var stored int64
	var key string
	err := s.db.QueryRow(ctx, "SELECT space, size, device, file, parent, seq, stored, blob FROM coffer_objects WHERE kind = $1 AND id = $2",
		int16(kind), id[:]).Scan(&space, &m.Size, &device, &file, &parent, &m.Seq, &stored, &key)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, "", fmt.Errorf("store: %v %s: %w", kind, id.String()[:12], store.ErrNotFound)
	}
	if err != nil {
		return m, "", fmt.Errorf("store: %w", err)
	}
	m.Space, m.Device, m.File, m.Parent = scanID(space), scanID(device), scanID(file), scanID(parent)
	m.Stored = timeFromNano(stored)
	return m, key, nil
}

// StatObject implements store.Store.
func (s *Store) StatObject(ctx context.Context, kind object.Kind, id object.ID) (store.ObjectMeta, error) {
	m, _, err := s.stat(ctx, kind, id)
	return m, err
}

// GetObject implements store.Store. A blob missing from the bucket, or of
// another size than its row says, is ErrLost.
func (s *Store) GetObject(ctx context.Context, kind object.Kind, id object.ID) (store.ObjectMeta, []byte, error) {
	m, key, err := s.stat(ctx, kind, id)
	if err != nil {
		return m, nil, err
	}
	data, err := s.getBlob(ctx, m, key)
	return m, data, err
}

func (s *Store) getBlob(ctx context.Context, m store.ObjectMeta, key string) ([]byte, error) {
	obj, err := s.s3.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	var data []byte
	if err == nil {
		defer obj.Close()
		data, err = io.ReadAll(io.LimitReader(obj, object.MaxSize+1024))
	}
	if code := minio.ToErrorResponse(err).Code; code == "NoSuchKey" || (err == nil && int64(len(data)) != m.Size) {
		got := "missing"
		if err == nil {
			got = fmt.Sprintf("%d bytes, not %d", len(data), m.Size)
		}
		return nil, fmt.Errorf("store: blob %v %s (%s): %w", m.Kind, m.ID.String()[:12], got, store.ErrLost)
	}
	if err != nil {
		return nil, fmt.Errorf("store: s3 get %v %s: %w", m.Kind, m.ID.String()[:12], err)
	}
	return data, nil
}
