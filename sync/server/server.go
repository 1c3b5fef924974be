// Package server is cofferd's HTTP API (docs/sync-protocol.md): bootstrap,
// the org log, enrolment and pairing, objects, the change feed and audit
// chains, for one organisation. It authenticates every request by its
// signature, authorises every object by its space, and keeps no session:
// any number of servers sharing one store answer alike.
package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault/object"
	"golang.org/x/sync/semaphore"
)

// Config configures a Server.
type Config struct {
	Store store.Store
	// TLSKeyHash is the SHA-256 of the TLS certificate's
	// SubjectPublicKeyInfo the server presents (the genesis entry names it).
	TLSKeyHash [32]byte
	Logger     *slog.Logger
	// Now is the server's clock; time.Now unless set (tests move it).
	Now func() time.Time
	// Alerts receives a CEF line for every audit entry whose outcome is
	// blocked, as devices upload them (cofferd serve: standard output, for
	// SIEMs that tail it); nil discards them.
	Alerts io.Writer
}

// Server serves one organisation.
type Server struct {
	store        store.Store
	key          ed25519.PrivateKey
	tls          [32]byte
	log          *slog.Logger
	now          func() time.Time
	feed         *hub
	mu           sync.Mutex
	state        *orglog.State // the log as applied so far; refreshed from the store
	stateAt      time.Time     // when state was last compared with the store
	hashes       orglog.Hashes
	alerts       io.Writer
	alertM       sync.Mutex // one line at a time
	viewMu       sync.Mutex
	views        map[string][]int64  // log views' entry indexes by who and log size (getLogView)
	bodies       *semaphore.Weighted // bytes of request bodies held (admitBody)
	bodyMu       sync.Mutex
	personBodies map[string]int64 // bytes of request bodies held, by person (admitBody)
	metrics      *metrics
}

const metaServerKey = "server-key"

// New opens the server on st, making its server key on first start. A
// store.Notifier store is listened to until ctx ends.
func New(ctx context.Context, cfg Config) (*Server, error) {
	s := &Server{store: cfg.Store, tls: cfg.TLSKeyHash, log: cfg.Logger, now: cfg.Now, feed: newHub(), alerts: cfg.Alerts, metrics: newMetrics(),
		bodies: semaphore.NewWeighted(bodyBudget), personBodies: map[string]int64{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	seed, err := s.store.GetMeta(ctx, metaServerKey)
	if errors.Is(err, store.ErrNotFound) {
		seed = make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, err
		}
		if err := s.store.PutMeta(ctx, metaServerKey, nil, seed); err != nil && !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
		seed, err = s.store.GetMeta(ctx, metaServerKey) // another server may have won
	}
	if err != nil {
		return nil, fmt.Errorf("server key: %w", err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, errors.New("server key: malformed")
	}
	s.key = ed25519.NewKeyFromSeed(seed)
	if n, ok := s.store.(store.Notifier); ok {
		// Other servers' writes wake this one's feeds at once, until ctx
		// ends or the store closes.
		changes := n.Changes(ctx)
		go func() {
			for range changes {
				s.feed.notify()
			}
		}()
	}
	// The stored log is replayed now, as every device will: a damaged one
	// (a byte changed in store.db) made every request answer "internal
	// error", with the reason only in this server's log.
	if _, err := s.orgStateLocked(ctx); err != nil {
		return nil, fmt.Errorf("%w: the organisation's log in store.db is damaged; restore the data folder from a backup", err)
	}
	return s, nil
}

// PublicKey returns the server key that signs checkpoints and time.
func (s *Server) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// BootstrapToken makes the one-time token `cofferd admin init` needs, if
// the organisation does not exist yet and no token was made; it returns ""
// otherwise. Only its hash is stored.
func (s *Server) BootstrapToken(ctx context.Context) (string, error) {
	if n, err := s.store.LogSize(ctx); err != nil || n > 0 {
		return "", err
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(tok))
	if err := s.store.PutMeta(ctx, metaBootstrap, nil, sum[:]); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return "", nil // made before; the admin has it in the data folder
		}
		return "", err
	}
	return tok, nil
}

// metaBootstrapShared keeps the bootstrap token itself for servers that
// share a store (SharedBootstrapToken).
const metaBootstrapShared = "bootstrap-token-shared"

// SharedBootstrapToken is BootstrapToken for servers that share a store and
// have no data folder to keep the token in: the token is kept in the
// store (which holds the server's signing key already) until the
// organisation exists, so that every server started before then prints
// it: one printed by a server that crashed, or into a journal nobody
// read, is not lost. It returns "" once the organisation exists.
func (s *Server) SharedBootstrapToken(ctx context.Context) (string, error) {
	if n, err := s.store.LogSize(ctx); err != nil || n > 0 {
		if err == nil {
			// Used: not kept (a bootstrap cut off after it made the
			// organisation may have left it).
			s.forgetSharedToken(ctx)
		}
		return "", err
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	// The token first, then its hash: a crash between leaves a token
	// whose hash the next start stores.
	if err := s.store.PutMeta(ctx, metaBootstrapShared, nil, []byte(hex.EncodeToString(b[:]))); err != nil && !errors.Is(err, store.ErrConflict) {
		return "", err
	}
	tok, err := s.store.GetMeta(ctx, metaBootstrapShared)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(tok)
	if err := s.store.PutMeta(ctx, metaBootstrap, nil, sum[:]); err != nil && !errors.Is(err, store.ErrConflict) {
		return "", err
	}
	if have, err := s.store.GetMeta(ctx, metaBootstrap); err != nil || string(have) != string(sum[:]) {
		// Used (the organisation is being made), or made by a server
		// that keeps only the hash.
		return "", err
	}
	return string(tok), nil
}

// forgetSharedToken marks the shared store's bootstrap token used, in
// place of the token.
func (s *Server) forgetSharedToken(ctx context.Context) {
	if tok, err := s.store.GetMeta(ctx, metaBootstrapShared); err == nil && string(tok) != "used" {
		_ = s.store.PutMeta(ctx, metaBootstrapShared, tok, []byte("used"))
	}
}

// Handler returns the API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	// Every route counted and timed under its pattern.
	handle := func(pattern string, h http.Handler) { mux.Handle(pattern, s.instrument(pattern, h)) }
	handle("GET /v1/info", http.HandlerFunc(s.info))
	handle("POST /v1/bootstrap", http.HandlerFunc(s.bootstrap))
	handle("GET /v1/log", s.auth(anyKey, s.getLog))
	handle("GET /v1/log/view", s.auth(deviceOnly|inviteOnly, s.getLogView))
	handle("POST /v1/log", s.auth(adminOnly|deviceOnly, s.appendLog))
	handle("POST /v1/enroll", s.auth(inviteOnly, s.enroll))
	handle("POST /v1/pairings", s.auth(inviteOnly, s.requestPairing))
	handle("GET /v1/pairings/{id}", s.auth(inviteOnly, s.getPairing))
	handle("GET /v1/pairings", s.auth(deviceOnly, s.listPairings))
	handle("POST /v1/pairings/{id}/approve", s.auth(deviceOnly, s.approvePairing))
	handle("POST /v1/objects/has", s.auth(deviceOnly, s.has))
	handle("PUT /v1/objects/{kind}/{id}", s.authBody(deviceOnly, wire.MaxObjectBody+1024, s.putObject))
	handle("GET /v1/objects/{kind}/{id}", s.auth(deviceOnly, s.getObject))
	handle("GET /v1/feed", s.auth(deviceOnly, s.getFeed))
	handle("GET /v1/feed/stream", s.auth(deviceOnly, s.streamFeed))
	handle("POST /v1/audit", s.authBody(deviceOnly, 3*wire.MaxJSONBody, s.postAudit))
	handle("GET /v1/audit/org", s.auth(deviceOnly, s.orgAudit))
	handle("GET /v1/admin/devices", s.auth(adminOnly, s.adminDevices))
	handle("POST /v1/receipts", s.auth(deviceOnly, s.postReceipt))
	handle("GET /v1/admin/receipts", s.auth(adminOnly, s.adminReceipts))
	handle("GET /v1/admin/residency", s.auth(adminOnly, s.adminResidency))
	return s.recover(mux)
}

// recover turns a panic in a handler into a 500 without the details.
func (s *Server) recover(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
				writeError(w, http.StatusInternalServerError, wire.CodeInternal, "internal error")
			}
		}()
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, wire.Error{Code: code, Message: msg})
}

// httpError is an error with the response it deserves.
type httpError struct {
	status     int
	code       string
	msg        string
	serverTime int64 // with clock-skew: the server's clock, unix ns
	retryAfter int   // seconds, sent as Retry-After when set
}

func (e *httpError) Error() string { return e.msg }

func fail(status int, code, format string, args ...any) error {
	return &httpError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// respond writes err as the response, logging what is not the client's
// fault without the request's content.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, err error) {
	var he *httpError
	if errors.As(err, &he) {
		if he.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(he.retryAfter))
		}
		writeJSON(w, he.status, wire.Error{Code: he.code, Message: he.msg, ServerTime: he.serverTime})
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	if diskFull(err) {
		// Every request records its nonce, so reads stop too: say why,
		// to the user and to IT.
		writeError(w, http.StatusInsufficientStorage, wire.CodeServerFull,
			"the disk holding the organisation's server data is full: tell IT; nothing was lost, and syncing works again once they made room")
		return
	}
	writeError(w, http.StatusInternalServerError, wire.CodeInternal, "internal error")
}

// diskFull reports whether err is the storage's "no space left": ENOSPC
// from a file, or SQLite's SQLITE_FULL (13, in the low byte of extended
// codes) from the database.
func diskFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) {
		return true
	}
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == 13
}

// decode reads a JSON body into v, refusing unknown fields.
func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fail(http.StatusBadRequest, wire.CodeBadRequest, "malformed request body: %v", err)
	}
	if dec.More() {
		return fail(http.StatusBadRequest, wire.CodeBadRequest, "malformed request body: trailing data")
	}
	return nil
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	st, err := s.orgState(r.Context())
	if err != nil {
		s.respond(w, r, err)
		return
	}
	in := wire.Info{Protocol: wire.ProtocolVersion, Capabilities: []string{"feed-poll", "feed-sse"},
		ServerKey: s.PublicKey(), TLS: hex.EncodeToString(s.tls[:])}
	if st.Size > 0 {
		org := wire.HexID(st.Org)
		in.Org = &org
	}
	writeJSON(w, http.StatusOK, in)
}

// orgState returns the log's state, applying entries other servers
// appended since it was last read.
func (s *Server) orgState(ctx context.Context) (*orglog.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.orgStateLocked(ctx)
	if err == nil {
		s.stateAt = time.Now()
	}
	return st, err
}

// orgStateRecent is orgState read at most a second ago: for the feed,
// which thousands of devices wake on at once. (This server's own appends
// are in it at once; another server's within the second.) Authentication
// always reads the log afresh.
func (s *Server) orgStateRecent(ctx context.Context) (*orglog.State, error) {
	s.mu.Lock()
	if s.state != nil && time.Since(s.stateAt) < time.Second {
		st := s.state
		s.mu.Unlock()
		return st, nil
	}
	s.mu.Unlock()
	return s.orgState(ctx)
}

func (s *Server) orgStateLocked(ctx context.Context) (*orglog.State, error) {
	n, err := s.store.LogSize(ctx)
	if err != nil {
		return nil, err
	}
	if s.state != nil && n <= s.state.Size {
		return s.state, nil
	}
	// Entries other servers appended (or a first read): a new state, as
	// the published one is never changed in place.
	entries, err := s.store.LogEntries(ctx, 0, n)
	if err != nil {
		return nil, err
	}
	st, hashes := &orglog.State{}, orglog.Hashes(nil)
	for at, raw := range entries {
		if _, err := st.Apply(raw, time.Time{}); err != nil {
			return nil, fmt.Errorf("the stored org log is invalid at entry %d: %w", at, err)
		}
		if err := hashes.Append(int64(at), raw); err != nil {
			return nil, err
		}
	}
	s.state, s.hashes = st, hashes
	s.metrics.logEntries.Set(float64(st.Size))
	return s.state, nil
}

// objectKind parses a kind in a path.
func objectKind(s string) (object.Kind, error) {
	for _, k := range object.Kinds {
		if k.String() == s {
			return k, nil
		}
	}
	return 0, fail(http.StatusNotFound, wire.CodeNotFound, "no such object kind %q", s)
}

// UserSpace is the space of a user's device certificates.
func UserSpace(email string) object.ID {
	return object.ID(sha256.Sum256([]byte("coffer user space v1\n" + email)))
}
