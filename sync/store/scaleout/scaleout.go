// Package scaleout is cofferd's storage for organisations that outgrow
// one machine: metadata in PostgreSQL (github.com/jackc/pgx/v5) and object
// bodies in an S3-compatible bucket (github.com/minio/minio-go/v7), shared
// by any number of stateless servers behind a load balancer
// (docs/sync-protocol.md, "Storage on the server").
//
// What must not race between servers is decided in PostgreSQL: a row
// inserted if absent, a compare-and-swap, or an advisory lock held to the
// end of a transaction. Every upload goes to a key of its own in the
// bucket,
//
//	<kind>/<64 hex of the ID>/<32 hex, random>
//
// and the row of the object names the key that won, so a blob is never
// overwritten and a losing upload never replaces the winner's bytes. A
// crash between the two leaves at most a blob no row names.
//
// Feed events are numbered under one lock, in commit order, so a reader
// past event n never finds an n-1 committed later; every transaction that
// adds events notifies the channel coffer_events (LISTEN/NOTIFY), which
// Changes turns into wake-ups for the servers' feeds.
package scaleout

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/vault/object"
)

//go:embed schema.sql
var schema string

// schemaVersion is the version of schema.sql, kept in coffer_schema.
const schemaVersion = 1

// Advisory locks (pg_advisory_xact_lock(class, key)): the first key names
// what the lock serialises.
const (
	lockSchema   = 0x436f0 // migration at start
	lockEvents   = 0x436f1 // numbering feed events (and the log's size)
	lockAudit    = 0x436f2 // numbering audit batches
	lockPairings = 0x436f3 // with hashtext(email): a bound on waiting pairings
)

// notifyChannel is the LISTEN/NOTIFY channel of new events.
const notifyChannel = "coffer_events"

// Config says where the store is.
type Config struct {
	// Postgres is a libpq connection string or URL
	// ("host=db.example.com dbname=coffer user=cofferd" or
	// "postgres://cofferd@db.example.com/coffer"), without a password:
	// pgx reads PGPASSWORD and ~/.pgpass, as libpq does (a password in
	// it is refused: the command line shows in the process list).
	// pool_max_conns in it sizes the pool (default 32).
	Postgres string
	// S3 is the bucket's URL: https://HOST[:PORT]/BUCKET (path-style), or
	// http:// for a server on loopback only. A new store makes the bucket
	// if it is missing and marks it as its own (see Open).
	S3 string
	// AccessKey, SecretKey and SessionToken (for temporary keys)
	// authenticate to the S3 server (in cofferd, from AWS_ACCESS_KEY_ID,
	// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN). The keys need
	// s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucket (without
	// it a missing object reads as "access denied", not as lost), and
	// s3:CreateBucket only if the bucket is to be made.
	AccessKey, SecretKey, SessionToken string
	// Region of the bucket; "" means us-east-1.
	Region string
}

// Store is the scale-out store.
type Store struct {
	db        *pgxpool.Pool
	s3        *minio.Client
	bucket    string
	lastPurge atomic.Int64 // unix seconds of the last purge of expired nonces
	listen    *listener
	database  string // where the database is, for Residency: "db.example.com:5432 database coffer"
}

var _ store.Store = (*Store)(nil)

// Session settings of every connection. The store's locking needs READ
// COMMITTED (each statement sees what committed before it, so a count or
// a max read after a lock was granted includes the previous holder's
// rows): transactions ask for it whatever the database's default. A
// server that stalls while it holds a lock (paused, cut off) must not
// stall every other: PostgreSQL ends its idle transaction, and a writer
// waits for a lock a bounded time (then fails, and its device retries).
func sessionParams() map[string]string {
	return map[string]string{
		"idle_in_transaction_session_timeout": "15s",
		"lock_timeout":                        "10s",
		"default_transaction_isolation":       "read committed",
	}
}

// defaultPoolConns sizes the connection pool when the DSN does not: each
// writer waiting on a lock holds a connection, and reads on every request
// (nonces, devices) need some beside them.
const defaultPoolConns = 32

// Open connects to PostgreSQL and the bucket, making the tables (and, for a
// new store, the bucket) on first use; several servers may open one store
// at once. The database and the bucket must belong together: the first
// server of a new store writes a marker naming the database's store ID
// into the bucket (once, under a lock, recording where), and Open refuses
// a bucket without that marker (a mistyped --s3 would otherwise read
// every object as lost, and its repairs would move them out of the real
// bucket).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	s3, bucket, err := openS3(cfg)
	if err != nil {
		return nil, err
	}
	if err := checkDSN(cfg.Postgres); err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(cfg.Postgres)
	if err != nil {
		// pgx's message may quote the string.
		return nil, errors.New("store: --postgres is not a PostgreSQL connection string (host=… dbname=… user=…, or postgres://user@host/db)")
	}
	if err := checkTLS(pc.ConnConfig); err != nil {
		return nil, err
	}
	if !strings.Contains(cfg.Postgres, "pool_max_conns") {
		pc.MaxConns = defaultPoolConns
	}
	for k, v := range sessionParams() {
		pc.ConnConfig.RuntimeParams[k] = v
	}
	db, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("store: postgres: %w", err)
	}
	s := &Store{db: db, s3: s3, bucket: bucket, database: databaseWhere(pc.ConnConfig)}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.checkBucket(ctx, cfg.Region, s3.EndpointURL().Host); err != nil {
		db.Close()
		return nil, err
	}
	s.listen = newListener(pc.ConnConfig.Copy())
	return s, nil
}

// checkDSN refuses a connection string with a password in it, as pgx
// reads the string (libpq's rules): a URL's user info, whatever '#', '?'
// or host list it holds, a password or sslpassword key in either form.
// pgconn's fail-closed key check names the first key not allowed: each
// key but those two is allowed in turn until the string parses.
func checkDSN(dsn string) error {
	refuse := errors.New("store: keep the database password out of --postgres (it shows in the process list): set PGPASSWORD, or use ~/.pgpass")
	allowed := []string{}
	for range 64 {
		_, err := pgconn.ParseConfigWithOptions(dsn, pgconn.ParseConfigOptions{ConnStringAllowedKeys: allowed})
		if err == nil {
			return nil
		}
		m := notAllowedKey.FindStringSubmatch(err.Error())
		if m == nil {
			return nil // not a key's refusal: Open's own parse reports it
		}
		switch m[1] {
		case "password", "sslpassword":
			return refuse
		}
		allowed = append(allowed, m[1])
	}
	return errors.New("store: --postgres has more than 64 keys")
}

// notAllowedKey matches pgconn's error for a key ConnStringAllowedKeys
// does not list (pgx v5.12: `connection string key "password" is not in
// ConnStringAllowedKeys`).
var notAllowedKey = regexp.MustCompile(`connection string key "([^"]+)" is not in ConnStringAllowedKeys`)

// checkTLS refuses a connection to a database on another machine without
// a verified TLS certificate (sslmode verify-full or verify-ca): the
// database holds the server's signing key and TLS key, which anyone on
// the path would otherwise read or alter (libpq's default, prefer, falls
// back to plain text). A Unix socket or loopback needs none.
func checkTLS(c *pgx.ConnConfig) error {
	hosts := append([]*pgconn.FallbackConfig{{Host: c.Host, Port: c.Port, TLSConfig: c.TLSConfig}}, c.Fallbacks...)
	for _, h := range hosts {
		if strings.HasPrefix(h.Host, "/") || loopback(h.Host) || h.Host == "" {
			continue
		}
		t := h.TLSConfig
		if t == nil || (t.InsecureSkipVerify && t.VerifyPeerCertificate == nil) {
			return fmt.Errorf("store: --postgres: the database at %s is reached without a verified TLS certificate: add sslmode=verify-full (and sslrootcert=FILE for a private CA); the database holds the server's keys", h.Host)
		}
	}
	return nil
}

// openS3 makes the S3 client of cfg.S3. Its messages never quote the URL:
// keys pasted into it (a secret key may hold "/" and "+", which a URL
// parser takes for a path) would go to the log.
func openS3(cfg Config) (*minio.Client, string, error) {
	if strings.Contains(cfg.S3, "@") {
		return nil, "", errors.New("store: --s3: keep the keys out of the URL (it shows in the process list and in logs): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	u, err := url.Parse(cfg.S3)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, "", errors.New("store: --s3: want https://HOST[:PORT]/BUCKET")
	}
	bucket := strings.Trim(u.Path, "/")
	if bucket == "" || strings.Contains(bucket, "/") || u.RawQuery != "" {
		return nil, "", fmt.Errorf("store: --s3 %s://%s/…: name one bucket, and nothing after it: https://HOST[:PORT]/BUCKET", u.Scheme, u.Host)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, "", fmt.Errorf("store: --s3 http://%s/%s: plain http only to a server on this machine (127.0.0.1, ::1, localhost); use https", u.Host, bucket)
	}
	if cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, "", errors.New("store: the S3 keys are missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken),
		Secure:       u.Scheme == "https",
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, "", fmt.Errorf("store: s3 %s: %w", u.Host, err)
	}
	return c, bucket, nil
}

// loopback reports whether host names this machine (localhost, 127/8, ::1).
func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// metaStoreID is the meta key of the store's random ID, which the bucket's
// marker object repeats; metaBucket records, once, the bucket the marker
// was written to.
const (
	metaStoreID = "scaleout-store-id"
	metaBucket  = "scaleout-bucket"
	markerKey   = "coffer-store-id"
	lockBucket  = 1 // with lockSchema: marking the bucket
)

// checkBucket makes sure the bucket is this database's (see Open): its
// marker must name the database's store ID. The marker is written once,
// by the first server of a new store, under a lock, and the database
// records where; a bucket without it is refused from then on (a server
// started with a mistyped bucket before the organisation existed marked
// its own too, and half the objects went there).
func (s *Store) checkBucket(ctx context.Context, region, host string) error {
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return err
	}
	if err := s.PutMeta(ctx, metaStoreID, nil, []byte(hex.EncodeToString(r[:]))); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	id, err := s.GetMeta(ctx, metaStoreID) // another server's, if it came first
	if err != nil {
		return err
	}
	marker, exists, err := s.readMarker(ctx)
	switch {
	case err != nil:
		return err
	case marker != nil && string(marker) == string(id):
		return nil
	case marker != nil:
		return fmt.Errorf("store: the bucket %s belongs to another Coffer store (its marker names store %.8s, this database is store %.8s): check --s3 and --postgres", s.bucket, marker, id)
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, $2)", lockSchema, lockBucket); err != nil {
			return err
		}
		// Marked meanwhile by a server that started at the same time?
		if marker, _, err := s.readMarker(ctx); err != nil || string(marker) == string(id) {
			return err
		}
		var where []byte
		err := tx.QueryRow(ctx, "SELECT value FROM coffer_meta WHERE key = $1", metaBucket).Scan(&where)
		switch {
		case err == nil:
			what := "has no marker of this store"
			if !exists {
				what = "does not exist"
			}
			return fmt.Errorf("store: the bucket %s at %s %s; this database's bucket is %s: --s3 must name it (a bucket moved elsewhere keeps its %s object)",
				s.bucket, host, what, where, markerKey)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		// The first server of a new store: make the bucket, mark it,
		// and record where.
		if !exists {
			err := s.s3.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
			if code := minio.ToErrorResponse(err).Code; err != nil && code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
				return fmt.Errorf("store: make the s3 bucket %s: %w", s.bucket, err)
			}
		}
		if _, err := s.s3.PutObject(ctx, s.bucket, markerKey, bytes.NewReader(id), int64(len(id)),
			minio.PutObjectOptions{ContentType: "text/plain", DisableMultipart: true}); err != nil {
			return fmt.Errorf("store: s3 bucket %s: mark it as this store's: %w", s.bucket, err)
		}
		_, err = tx.Exec(ctx, "INSERT INTO coffer_meta(key, value) VALUES($1, $2)", metaBucket, []byte(host+"/"+s.bucket))
		return err
	})
}

// readMarker reads the bucket's marker: nil if the bucket or the marker is
// missing, with whether the bucket exists.
func (s *Store) readMarker(ctx context.Context) (marker []byte, exists bool, err error) {
	exists, err = s.s3.BucketExists(ctx, s.bucket)
	if err != nil || !exists {
		if err != nil {
			err = fmt.Errorf("store: s3 bucket %s: %w", s.bucket, err)
		}
		return nil, exists, err
	}
	obj, err := s.s3.GetObject(ctx, s.bucket, markerKey, minio.GetObjectOptions{})
	if err == nil {
		marker, err = io.ReadAll(io.LimitReader(obj, 256))
		obj.Close()
	}
	if minio.ToErrorResponse(err).Code == "NoSuchKey" {
		return nil, true, nil
	}
	if err != nil {
		return nil, true, fmt.Errorf("store: s3 bucket %s: %w", s.bucket, err)
	}
	return marker, true, nil
}

// migrate makes the tables on first use, under a lock: servers starting at
// once make them once. A store whose tables exist needs no right to
// create any (a role that only reads and writes them will do).
func (s *Store) migrate(ctx context.Context) error {
	var made bool
	if err := s.db.QueryRow(ctx, "SELECT to_regclass('coffer_schema') IS NOT NULL").Scan(&made); err != nil {
		return fmt.Errorf("store: postgres: %w", err)
	}
	if made {
		return s.checkVersion(ctx, s.db)
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, 0)", lockSchema); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS coffer_schema (version INTEGER NOT NULL)"); err != nil {
			return err
		}
		var version int
		err := tx.QueryRow(ctx, "SELECT version FROM coffer_schema").Scan(&version)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return err
		default:
			return s.checkVersion(ctx, tx) // another server made them meanwhile
		}
		if _, err := tx.Exec(ctx, schema); err != nil {
			return fmt.Errorf("store: schema: %w", err)
		}
		_, err = tx.Exec(ctx, "INSERT INTO coffer_schema(version) VALUES($1)", schemaVersion)
		return err
	})
}

// checkVersion refuses tables of another schema version.
func (s *Store) checkVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) error {
	var version int
	if err := q.QueryRow(ctx, "SELECT version FROM coffer_schema").Scan(&version); err != nil {
		return fmt.Errorf("store: postgres: cofferd's tables: %w", err)
	}
	if version != schemaVersion {
		return fmt.Errorf("store: the PostgreSQL database holds cofferd schema %d; this cofferd reads schema %d", version, schemaVersion)
	}
	return nil
}

// Close closes the store.
func (s *Store) Close() error {
	s.listen.close()
	s.db.Close()
	return nil
}

// tx runs fn in a transaction, committed if fn returns nil.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		// PostgreSQL's own errors get the package's prefix; fn's own
		// errors carry it already.
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return fmt.Errorf("store: %w", err)
		}
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// takeEventLock takes the event lock to the end of tx and notifies the feed
// channel at commit.
func takeEventLock(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, 0), pg_notify($2, '')", lockEvents, notifyChannel)
	return err
}

// addEvent adds an event numbered after the newest; takeEventLock first.
func addEvent(ctx context.Context, tx pgx.Tx, e store.Event) error {
	_, err := tx.Exec(ctx, `INSERT INTO coffer_events(seq, kind, id, space, file, parent, log)
		SELECT coalesce(max(seq), 0) + 1, $1, $2, $3, $4, $5, $6 FROM coffer_events`,
		int16(e.Kind), e.ID[:], idOrNil(e.Space), idOrNil(e.File), idOrNil(e.Parent), e.Log)
	return err
}

func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
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
	err := s.db.QueryRow(ctx, "SELECT value FROM coffer_meta WHERE key = $1", key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("store: meta %q: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return v, nil
}

// PutMeta implements store.Store.
func (s *Store) PutMeta(ctx context.Context, key string, old, value []byte) error {
	var tag pgconn.CommandTag
	var err error
	if old == nil {
		tag, err = s.db.Exec(ctx, "INSERT INTO coffer_meta(key, value) VALUES($1, $2) ON CONFLICT DO NOTHING", key, value)
	} else {
		tag, err = s.db.Exec(ctx, "UPDATE coffer_meta SET value = $1 WHERE key = $2 AND value = $3", value, key, old)
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: meta %q: %w", key, store.ErrConflict)
	}
	return nil
}

// LogSize implements store.Store.
func (s *Store) LogSize(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRow(ctx, "SELECT coalesce(max(idx) + 1, 0) FROM coffer_log").Scan(&n); err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return n, nil
}

// AppendLog implements store.Store: one transaction for all records,
// under the event lock (which also orders appends of several servers).
func (s *Store) AppendLog(ctx context.Context, n int64, records ...store.LogRecord) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := takeEventLock(ctx, tx); err != nil {
			return err
		}
		var size int64
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(idx) + 1, 0) FROM coffer_log").Scan(&size); err != nil {
			return err
		}
		if size != n {
			return fmt.Errorf("store: the log has %d entries, not %d: %w", size, n, store.ErrConflict)
		}
		for i, r := range records {
			at := n + int64(i)
			if r.Entry == nil {
				return fmt.Errorf("store: log record %d has no entry", at)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO coffer_log(idx, entry) VALUES($1, $2)", at, r.Entry); err != nil {
				return err
			}
			first := tlog.StoredHashCount(at)
			for j, h := range r.Hashes {
				if _, err := tx.Exec(ctx, "INSERT INTO coffer_log_hashes(idx, hash) VALUES($1, $2)", first+int64(j), h[:]); err != nil {
					return err
				}
			}
			if err := addEvent(ctx, tx, store.Event{Log: at + 1}); err != nil {
				return err
			}
		}
		return nil
	})
}

// LogEntries implements store.Store.
func (s *Store) LogEntries(ctx context.Context, start, end int64) ([][]byte, error) {
	rows, err := s.db.Query(ctx, "SELECT entry FROM coffer_log WHERE idx >= $1 AND idx < $2 ORDER BY idx", start, end)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

// ReadHashes implements store.Store, in one query.
func (s *Store) ReadHashes(ctx context.Context, indexes []int64) ([]tlog.Hash, error) {
	rows, err := s.db.Query(ctx, "SELECT idx, hash FROM coffer_log_hashes WHERE idx = ANY($1)", indexes)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	got := map[int64][]byte{}
	var idx int64
	var h []byte
	if _, err := pgx.ForEachRow(rows, []any{&idx, &h}, func() error { got[idx] = h; return nil }); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		b, ok := got[x]
		if !ok || len(b) != len(out[i]) {
			return nil, fmt.Errorf("store: stored hash %d: %w", x, store.ErrNotFound)
		}
		copy(out[i][:], b)
	}
	return out, nil
}

// blobKey is a new, never used key in the bucket for an upload of (kind, id).
func blobKey(kind object.Kind, id object.ID) (string, error) {
	var r [16]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	return kind.String() + "/" + id.String() + "/" + hex.EncodeToString(r[:]), nil
}

// now is the time of a stored object.
func now() time.Time { return time.Now() }
