package scaleout

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/vault/object"
)

// Residency implements store.Store: the tables in PostgreSQL, the objects'
// bytes in the bucket (whose region is asked of the bucket).
func (s *Store) Residency(ctx context.Context) (store.Residency, error) {
	region, err := s.s3.GetBucketLocation(ctx, s.bucket)
	if err != nil {
		return store.Residency{}, fmt.Errorf("store: s3: the bucket's region: %w", err)
	}
	r := store.Residency{Backend: "scale-out", Places: []store.Place{
		{Holds: "organisation log, devices, audit trails, server keys, object index", Kind: "postgresql", Where: s.database},
		{Holds: "objects", Kind: "s3", Where: s.s3.EndpointURL().String() + " bucket " + s.bucket, Region: region},
	}}
	rows, err := s.db.Query(ctx, "SELECT kind, count(*), coalesce(sum(size), 0)::BIGINT FROM coffer_objects GROUP BY kind ORDER BY kind")
	if err != nil {
		return r, fmt.Errorf("store: postgres: %w", err)
	}
	r.Objects, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.KindCount, error) {
		var c store.KindCount
		var kind int16
		err := row.Scan(&kind, &c.Count, &c.Bytes)
		c.Kind = object.Kind(kind)
		return c, err
	})
	if err != nil {
		return r, fmt.Errorf("store: postgres: %w", err)
	}
	return r, nil
}

// databaseWhere names the database c reaches: its hosts (a Unix socket's
// folder, or host:port) and the database's name.
func databaseWhere(c *pgx.ConnConfig) string {
	hosts := []string{where(c.Host, c.Port)}
	for _, f := range c.Fallbacks {
		if h := where(f.Host, f.Port); h != hosts[len(hosts)-1] {
			hosts = append(hosts, h)
		}
	}
	return strings.Join(hosts, ", ") + " database " + c.Database
}

func where(host string, port uint16) string {
	if strings.HasPrefix(host, "/") {
		return "socket " + host
	}
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}
