package embedded

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/vault/object"
)

// Residency implements store.Store: everything is in one folder of the
// server's host.
func (s *Store) Residency(ctx context.Context) (store.Residency, error) {
	dir, err := filepath.Abs(filepath.Dir(s.blobs))
	if err != nil {
		return store.Residency{}, fmt.Errorf("store: %w", err)
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real // where the bytes are, not the link to them
	}
	where := dir
	if host, err := os.Hostname(); err == nil {
		where += " on host " + host
	}
	r := store.Residency{Backend: "embedded", Places: []store.Place{{Holds: store.HoldsTables + "; " + store.HoldsObjects, Kind: "folder", Where: where}}}
	rows, err := s.db.QueryContext(ctx, "SELECT kind, count(*), sum(size) FROM objects GROUP BY kind ORDER BY kind")
	if err != nil {
		return r, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c store.KindCount
		var kind int
		if err := rows.Scan(&kind, &c.Count, &c.Bytes); err != nil {
			return r, fmt.Errorf("store: %w", err)
		}
		c.Kind = object.Kind(kind)
		r.Objects = append(r.Objects, c)
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("store: %w", err)
	}
	return r, nil
}
