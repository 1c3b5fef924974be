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
	bucket := store.Place{Holds: store.HoldsObjects, Kind: "s3", Where: s.s3.EndpointURL().String() + " bucket " + s.bucket}
	bucket.Region, bucket.Note = s.region(ctx)
	r := store.Residency{Backend: "scale-out", Places: []store.Place{
		{Holds: store.HoldsTables + ", the objects' index", Kind: "postgresql", Where: s.database}, bucket}}
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

// region is the bucket's region name and what it means. minio-go has it
// from the configuration (AWS_REGION), or asked the bucket when the store
// opened; a server that refuses GetBucketLocation reads as us-east-1
// there. Only on AWS is the name a place; elsewhere it is a label the
// signatures carry. The report goes on without it rather than fail.
func (s *Store) region(ctx context.Context) (string, string) {
	name, err := s.s3.GetBucketLocation(ctx, s.bucket)
	switch {
	case err != nil:
		return "", "region unknown: " + err.Error()
	case strings.HasSuffix(s.s3.EndpointURL().Hostname(), ".amazonaws.com"):
		return name, "the AWS region of the bucket (as the bucket or AWS_REGION says; a key without s3:GetBucketLocation reads as us-east-1)"
	}
	return name, "a signing label of an S3-compatible server, not a location: where its disks are is the operator's to say"
}
