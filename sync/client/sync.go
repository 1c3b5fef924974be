package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
	"github.com/coffer-vault/coffer/vault/object"
)

// Stats counts what a sync moved (the fields of `coffer sync --json`).
type Stats struct {
	BytesUp      int64 `json:"bytes_up"`
	BytesDown    int64 `json:"bytes_down"`
	VersionsUp   int   `json:"versions_up"`
	VersionsDown int   `json:"versions_down"`
	Conflicts    int   `json:"conflicts"`
	// Refused counts objects from the server this vault refused (forged,
	// altered, breaking a rule): skipped, audited, never kept.
	Refused int `json:"refused,omitempty"`
	// Lost counts objects the server could not give because it lost
	// their bytes (wire.CodeLost): skipped, fetched again later.
	Lost int `json:"lost,omitempty"`
	// Pending counts the objects refused or lost, of this pull or an
	// earlier one, still waiting to be fetched again.
	Pending int `json:"pending,omitempty"`
}

func (s *Stats) add(o Stats) {
	s.BytesUp += o.BytesUp
	s.BytesDown += o.BytesDown
	s.VersionsUp += o.VersionsUp
	s.VersionsDown += o.VersionsDown
	s.Conflicts += o.Conflicts
	s.Refused += o.Refused
	s.Lost += o.Lost
	s.Pending = max(s.Pending, o.Pending)
}

// Syncer syncs one enrolled vault with its organisation's server.
type Syncer struct {
	v    *vault.Vault
	conn *Conn

	mu       sync.Mutex
	logMu    sync.Mutex // one log refresh at a time: two would both fetch from the same size
	auditMu  sync.Mutex // one audit upload at a time: two would both send from the same head
	seenTime time.Time  // the highest server time verified, not yet recorded
	kick     chan struct{}
	wrapped  map[object.ID]string // per folder: the log size, epochs and readers last wrapped for
	// unanchorable: owned folders this vault holds a later revision of
	// than the first, which it cannot anchor (not read again every sync).
	unanchorable map[object.ID]bool
	refused      map[string]bool // restricted folder/guest pairs audited this run
	dropped      []vault.Dropped // folders destroyed here, not yet reported
}

// parallel is how many objects move at once.
const parallel = 4

// NewSyncer connects an enrolled vault to its server, with the pins its
// passphrase protects.
func NewSyncer(v *vault.Vault) (*Syncer, error) {
	pin := v.Org()
	if pin == nil {
		return nil, errors.New("this vault is not enrolled in an organisation: join one with 'coffer enroll'")
	}
	var tlsPin [32]byte
	copy(tlsPin[:], pin.TLS)
	conn, err := Dial(pin.URL, tlsPin, wire.DeviceKeyID(v.DeviceID()), v.TransportKey())
	if err != nil {
		return nil, err
	}
	conn.SetServer(pin.Org, ed25519.PublicKey(pin.Server))
	conn.Now = v.Now // one clock per device: the vault's
	s := &Syncer{v: v, conn: conn, kick: make(chan struct{}, 1), wrapped: map[object.ID]string{}, unanchorable: map[object.ID]bool{}, refused: map[string]bool{}}
	conn.OnTime = func(t time.Time) {
		s.mu.Lock()
		if t.After(s.seenTime) {
			s.seenTime = t
		}
		s.mu.Unlock()
	}
	return s, nil
}

// Close closes the connection.
func (s *Syncer) Close() { s.conn.Close() }

// Conn returns the connection (for requests beyond syncing).
func (s *Syncer) Conn() *Conn { return s.conn }

func (s *Syncer) serverNow() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seenTime.IsZero() {
		return time.Now()
	}
	return s.seenTime
}

// RecordTime keeps the highest server time seen in the vault's
// checkpoint: the lease's renewal.
func (s *Syncer) RecordTime() error { return s.recordTime() }

// recordTime keeps the highest server time seen in the vault's checkpoint.
func (s *Syncer) recordTime() error {
	s.mu.Lock()
	t := s.seenTime
	s.mu.Unlock()
	if t.IsZero() {
		return nil
	}
	return s.v.RecordServerTime(t)
}

// Kick asks a Watch loop to push now (a local change).
func (s *Syncer) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// Sync brings the org log up to date, pushes what the server lacks, pulls
// what other devices wrote, and sends this device's audit entries.
func (s *Syncer) Sync(ctx context.Context) (st Stats, err error) {
	defer func() {
		// The audit trail goes up whatever else failed — a refused
		// object, a revoked share, an ended grant: what this device did
		// still reaches compliance.
		aerr := s.PushAudit(ctx)
		if err == nil {
			err = aerr
		}
		if err == nil {
			err = s.recordTime()
		}
	}()
	if err := s.syncLog(ctx); err != nil {
		return st, err
	}
	// What the log says first: folders this user may no longer read go,
	// folders made here are registered, readers get their keys.
	if err := s.dropUnreadable(ctx); err != nil {
		return st, err
	}
	if err := s.registerFolders(ctx); err != nil {
		return st, err
	}
	// A rotation that keeps failing (other rotations taking its epoch
	// number, say) stays owed and is reported at the end, but does not
	// stop this device's push and pull for every other folder.
	owedErr := s.owedRotations(ctx)
	if err := s.ensureWraps(ctx, false); err != nil {
		return st, err
	}
	// Before the push too: a reader who left since the last sync gets
	// no key of what is written from now on.
	leftErr := s.rotateForLeavers(ctx)
	// A push that fails does not stop the pull: what others wrote (a new
	// key among it) still arrives; the push's error is reported after.
	up, pushErr := s.Push(ctx)
	st.add(up)
	down, err := s.Pull(ctx)
	st.add(down)
	var refused *RefusedError
	if err != nil && !errors.As(err, &refused) {
		return st, joinErrors(pushErr, err)
	}
	if pushErr != nil {
		return st, pushErr
	}
	if leftErr != nil {
		// Tried again after the pull, which may have brought another
		// device's rotation.
		leftErr = s.rotateForLeavers(ctx)
	}
	if err := joinErrors(owedErr, leftErr); err != nil {
		return st, fmt.Errorf("a folder's key rotation is still owed (tried again at the next sync): %w", err)
	}
	if refused != nil {
		return st, refused
	}
	return st, nil
}

// ErrDeviceRevoked is returned by Sync when the organisation's log, as
// this device verified it, revokes this device: it syncs nothing more.
var ErrDeviceRevoked = errors.New("the organisation's admin revoked this device, so it no longer syncs (ask IT if that is a mistake)")

// syncLog fetches the org log entries this vault lacks and has the vault
// verify them.
func (s *Syncer) syncLog(ctx context.Context) error {
	s.logMu.Lock()
	st, err := syncVaultLog(ctx, s.conn, s.v)
	s.logMu.Unlock()
	if errors.Is(err, vault.ErrOrgLog) {
		// A forged, replayed or forked entry (a wipe of another org's
		// making, say): refused, and on the record.
		_, _ = s.v.AppendAudit(ctx, audit.Event{Action: audit.Tamper, Outcome: audit.Blocked, Reason: "the server's organisation log was refused: " + err.Error()})
	}
	if IsCode(err, wire.CodeRevoked) || errors.Is(err, vault.ErrOrgLog) {
		// Refused: revoked, or ordered wiped — which only the device's
		// view of the log, verified against its pins, can say (a
		// device ordered wiped is served only what proves its order,
		// which a guest's vault refuses as a shrunken view).
		if g, gerr := NewGuard(s.v.Dir()); gerr == nil {
			order, oerr := g.Order(ctx)
			g.Close()
			if oerr == nil && order != nil {
				return &WipeOrderedError{Order: *order}
			}
		}
		return err
	}
	if err != nil {
		return err
	}
	if d := st.Devices[s.v.DeviceID()]; d != nil && d.Revoked && d.Wipe == nil {
		// The log this device verified revokes it: whatever a server
		// still serves it, it takes nothing more and sends nothing.
		return ErrDeviceRevoked
	}
	if d := st.Devices[s.v.DeviceID()]; d != nil && d.Wipe != nil {
		return &WipeOrderedError{Order: vault.WipeOrder{Cause: vault.CauseAdmin, Org: st.Org, Device: d.ID,
			Entry: hex.EncodeToString(d.Wipe.Hash[:]), Nonce: d.Wipe.Nonce, Reason: d.Wipe.Reason, Issued: d.Wipe.Time, OrgName: st.Name}}
	}
	return nil
}

// Push uploads what the server has not acknowledged: keyrings and folder
// objects, then each version's missing chunks (asked for in one call per
// version) and last its manifest. An interrupted push resumes where it
// stopped: acknowledged objects are remembered, chunks are asked for.
func (s *Syncer) Push(ctx context.Context) (Stats, error) {
	var st Stats
	out, err := s.v.Outgoing(ctx)
	if err != nil {
		return st, err
	}
	for _, o := range out {
		if o.Kind == object.KindManifest {
			n, err := s.pushChunks(ctx, o)
			st.BytesUp += n
			if err != nil {
				return st, err
			}
		}
		n, err := s.put(ctx, o.Kind, o.ID, o)
		st.BytesUp += n
		if err != nil {
			return st, err
		}
		if err := s.v.MarkPushed(ctx, o.Kind, o.ID); err != nil {
			return st, err
		}
		if o.Kind == object.KindManifest {
			st.VersionsUp++
		}
	}
	return st, nil
}

func (s *Syncer) pushChunks(ctx context.Context, o vault.Outgoing) (int64, error) {
	if len(o.Chunks) == 0 {
		return 0, nil
	}
	var missing []vault.ManifestRef
	seen := map[object.ID]bool{}
	for i := 0; i < len(o.Chunks); i += wire.MaxHasRefs {
		part := o.Chunks[i:min(i+wire.MaxHasRefs, len(o.Chunks))]
		has := wire.Has{Folder: wire.HexID(o.Folder)}
		for _, c := range part {
			has.Refs = append(has.Refs, wire.Ref{Kind: object.KindChunk, ID: wire.HexID(c.ID)})
		}
		var reply wire.HasReply
		if _, err := s.conn.JSON(ctx, "POST", "/v1/objects/has", nil, has, &reply); err != nil {
			return 0, err
		}
		if len(reply.Have) != len(part) {
			return 0, errors.New("the server answered a has request with the wrong number of answers")
		}
		for j, c := range part {
			if !reply.Have[j] && !seen[c.ID] {
				seen[c.ID] = true
				missing = append(missing, c)
			}
		}
	}
	var mu sync.Mutex
	var sent int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for _, c := range missing {
		g.Go(func() error {
			n, err := s.put(gctx, object.KindChunk, c.ID, vault.Outgoing{Kind: object.KindChunk, Folder: o.Folder})
			mu.Lock()
			sent += n
			mu.Unlock()
			return err
		})
	}
	return sent, g.Wait()
}

// put uploads one stored object with its routing headers.
func (s *Syncer) put(ctx context.Context, kind object.Kind, id object.ID, o vault.Outgoing) (int64, error) {
	data, err := s.v.Envelope(ctx, kind, id)
	if err != nil {
		return 0, err
	}
	h := http.Header{}
	if kind != object.KindDevice {
		h.Set(wire.HeaderFolder, o.Folder.String())
	}
	if kind == object.KindManifest {
		h.Set(wire.HeaderFile, o.File.String())
		if !o.Parent.IsZero() {
			h.Set(wire.HeaderParent, o.Parent.String())
		}
		h.Set(wire.HeaderSeq, strconv.Itoa(o.Seq))
	}
	if _, err := s.conn.Do(ctx, Request{Method: "PUT", Path: "/v1/objects/" + kind.String() + "/" + id.String(), Body: data, Header: h}); err != nil {
		return 0, fmt.Errorf("push %v %s: %w", kind, id.String()[:12], err)
	}
	return int64(len(data)), nil
}

// Pull applies the change feed from the vault's cursor: for each object
// another device wrote, it fetches and verifies the object (and a
// version's chunks), then has the vault record what verified. The cursor
// moves only past events applied.
func (s *Syncer) Pull(ctx context.Context) (Stats, error) {
	var st Stats
	if err := s.rewindForNewFolders(ctx); err != nil {
		return st, err
	}
	var refused, lost error // the first of each, for the message
	if err := s.retryRefused(ctx, &st); err != nil {
		return st, err
	}
	for {
		cursor, err := s.v.FeedCursor(ctx)
		if err != nil {
			return st, err
		}
		var feed wire.Feed
		q := url.Values{"after": {strconv.FormatInt(cursor, 10)}, "wait": {"0"}}
		if _, err := s.conn.JSON(ctx, "GET", "/v1/feed", q, nil, &feed); err != nil {
			return st, err
		}
		if len(feed.Events) == 0 {
			if st.Pending, err = s.pendingRefused(ctx); err != nil {
				return st, err
			}
			var errs []error
			if refused != nil {
				errs = append(errs, &RefusedError{N: st.Refused, First: refused})
			}
			if lost != nil {
				errs = append(errs, &LostError{N: st.Lost, First: lost})
			}
			return st, joinErrors(errs...)
		}
		got, err := s.apply(ctx, feed.Events, true)
		st.BytesDown += got.bytes
		st.Refused += len(got.refused)
		st.Lost += len(got.lost)
		if refused == nil && len(got.refused) > 0 {
			refused = got.refused[0].err
		}
		if lost == nil && len(got.lost) > 0 {
			lost = got.lost[0].err
		}
		if rerr := s.keepRefused(ctx, nil, append(got.refused, got.lost...)); rerr != nil {
			return st, rerr
		}
		if len(got.refused)+len(got.lost) > 0 {
			// New refusals are tried again at the next pull.
			if rerr := s.v.SetSyncMeta(ctx, "refused_retry", ""); rerr != nil {
				return st, rerr
			}
		}
		res, aerr := s.v.AdoptReceived(ctx)
		if aerr != nil {
			return st, aerr
		}
		st.VersionsDown += res.Versions
		st.Conflicts += res.Conflicts
		if err != nil {
			return st, err
		}
		if len(res.Skipped) > 0 {
			return st, fmt.Errorf("%d objects from the server were not recorded: %s", len(res.Skipped), res.Skipped[0])
		}
		next := feed.Next
		if got.waiting {
			if err := s.v.SetSyncMeta(ctx, "waiting", "1"); err != nil {
				return st, err
			}
		}
		if got.gotKeys {
			// Versions were skipped for want of a key that may have come
			// now: read the feed again (what is held is not fetched
			// again).
			if w, err := s.v.SyncMeta(ctx, "waiting"); err != nil {
				return st, err
			} else if w != "" {
				next = 0
				if err := s.v.SetSyncMeta(ctx, "waiting", ""); err != nil {
					return st, err
				}
			}
		}
		if err := s.v.SetFeedCursor(ctx, next); err != nil {
			return st, err
		}
	}
}

// RefusedError reports that a pull refused objects from the server: each
// was skipped (never kept), recorded in the audit trail as tampering, and
// the rest of the feed was applied — one forged object does not stop a
// device from receiving everything else.
type RefusedError struct {
	N     int   // how many
	First error // the first refusal, wrapping vault.ErrRejected
}

func (e *RefusedError) Error() string {
	if e.N == 1 {
		return fmt.Sprintf("1 object from the server was refused and recorded in the audit trail: %v", e.First)
	}
	return fmt.Sprintf("%d objects from the server were refused and recorded in the audit trail; the first: %v", e.N, e.First)
}

func (e *RefusedError) Unwrap() error { return e.First }

// LostError reports that the server could not give objects because it
// lost their bytes (wire.CodeLost: a damaged disk, a partial restore of
// its data): each was skipped and is fetched again later (as refused
// objects are), and the rest of the feed was applied.
type LostError struct {
	N     int   // how many
	First error // the first, a *ServerError with wire.CodeLost
}

func (e *LostError) Error() string {
	what := "1 object"
	if e.N != 1 {
		what = fmt.Sprintf("%d objects", e.N)
	}
	return what + " could not be fetched because the server has lost their stored bytes (its storage was damaged or partly restored): tell IT; everything else was synced, and they are fetched again later"
}

func (e *LostError) Unwrap() error { return e.First }

// rewindForNewFolders reads the feed from the start when the log lets this
// user read a folder it could not before: the folder's earlier events are
// behind the cursor.
func (s *Syncer) rewindForNewFolders(ctx context.Context) error {
	st := s.v.OrgState()
	if st == nil {
		return nil
	}
	var ids []string
	for _, f := range st.FoldersOf(s.v.Owner().Email, s.serverNow()) {
		ids = append(ids, f.String())
	}
	had, err := s.v.SyncMeta(ctx, "readable")
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, f := range strings.Fields(had) {
		known[f] = true
	}
	grew := false
	for _, f := range ids {
		grew = grew || !known[f]
	}
	if !grew {
		if now := strings.Join(ids, " "); now != had {
			return s.v.SetSyncMeta(ctx, "readable", now)
		}
		return nil
	}
	if err := s.v.SetFeedCursor(ctx, 0); err != nil {
		return err
	}
	return s.v.SetSyncMeta(ctx, "readable", strings.Join(ids, " "))
}

// apply fetches and receives the objects of events: keyrings first (a
// version needs its folder's key), then folders and device certificates,
// then versions with their chunks. An object the vault refuses
// (vault.ErrRejected) is audited and skipped; other errors stop it.
func (s *Syncer) apply(ctx context.Context, events []wire.Event, audited bool) (r applied, err error) {
	// The log first: a share or a new device may vouch for what follows.
	for _, e := range events {
		if e.Log > 0 {
			if err := s.syncLog(ctx); err != nil {
				return r, err
			}
			break
		}
	}
	logChanged := false
	for _, pass := range [][]object.Kind{{object.KindKeyring}, {object.KindFolder, object.KindDevice}, {object.KindManifest}} {
		for _, e := range events {
			if e.Log > 0 {
				logChanged = true
				continue
			}
			if !kindIn(e.Kind, pass) {
				continue
			}
			id := object.ID(e.ID)
			if known, err := s.v.Known(ctx, e.Kind, id); err != nil || known {
				if err != nil {
					return r, err
				}
				continue
			}
			if logChanged {
				// A new device's object may follow its device entry.
				if err := s.syncLog(ctx); err != nil {
					return r, err
				}
				logChanged = false
			}
			data, err := s.get(ctx, e.Kind, id, object.ID{})
			r.bytes += int64(len(data))
			if IsCode(err, wire.CodeLost) {
				// One lost object must not stop the rest of the feed
				// (it did, for every reader, for good).
				r.lost = append(r.lost, refusal{e, err})
				continue
			}
			if err != nil {
				return r, err
			}
			m, err := s.v.Receive(ctx, e.Kind, id, data)
			if errors.Is(err, vault.ErrSuperseded) {
				continue // an older revision of a folder held here
			}
			if errors.Is(err, vault.ErrNotAddressed) {
				// Someone else's wrap; or a folder or version whose key
				// has not reached this device yet (read again when it
				// does).
				r.waiting = r.waiting || e.Kind != object.KindKeyring
				continue
			}
			if err == nil && m != nil {
				var n int64
				n, err = s.pullChunks(ctx, m)
				r.bytes += n
				if err == nil {
					err = s.v.KeepManifest(ctx, m, data)
				}
				if IsCode(err, wire.CodeLost) { // one of its chunks
					r.lost = append(r.lost, refusal{e, err})
					continue
				}
			}
			if errors.Is(err, vault.ErrRejected) {
				r.refused = append(r.refused, refusal{e, err})
				if audited {
					ev := audit.Event{Action: audit.Tamper, Outcome: audit.Blocked, Reason: "refused from the server: " + err.Error()}
					if e.Folder != nil {
						ev.Folder = object.ID(*e.Folder).String()
					}
					_, _ = s.v.AppendAudit(ctx, ev)
				}
				continue
			}
			if err != nil {
				return r, err
			}
			r.gotKeys = r.gotKeys || e.Kind == object.KindKeyring
		}
	}
	if logChanged {
		return r, s.syncLog(ctx)
	}
	return r, nil
}

// applied is what apply did with a page of events.
type applied struct {
	bytes   int64     // downloaded
	waiting bool      // objects wait for a key not held yet
	gotKeys bool      // keyrings arrived
	refused []refusal // objects refused, audited, skipped
	lost    []refusal // objects the server lost the bytes of, skipped
}

// refusal is an event whose object the vault refused, and why.
type refusal struct {
	event wire.Event
	err   error
}

// maxRefused bounds the refused events a vault keeps to fetch again.
const maxRefused = 1000

// retryRefused fetches again the objects earlier pulls refused (a byte
// flipped in transit or on the server's disk must not hide a version for
// good once the cursor moved past it); those refused again stay on the
// list, audited once, when first refused.
func (s *Syncer) retryRefused(ctx context.Context, st *Stats) error {
	b, err := s.v.SyncMeta(ctx, "refused")
	if err != nil || b == "" {
		return err
	}
	var events []wire.Event
	if json.Unmarshal([]byte(b), &events) != nil || len(events) == 0 {
		return s.v.SetSyncMeta(ctx, "refused", "")
	}
	// At once the first time (a byte flipped once), then less and less
	// often: a forged object the server keeps serving costs a fetch an
	// hour at most, not one per round of a watching device.
	var due retryDue
	if m, err := s.v.SyncMeta(ctx, "refused_retry"); err == nil && m != "" {
		_ = json.Unmarshal([]byte(m), &due)
	}
	if time.Now().Before(due.Next) {
		return nil
	}
	got, err := s.apply(ctx, events, false)
	st.BytesDown += got.bytes
	res, aerr := s.v.AdoptReceived(ctx)
	if err == nil {
		err = aerr
	}
	if err != nil {
		return err
	}
	st.VersionsDown += res.Versions
	st.Conflicts += res.Conflicts
	st.Lost += len(got.lost)
	if len(got.refused)+len(got.lost) == 0 {
		due = retryDue{}
	} else {
		due.Tries++
		due.Next = time.Now().Add(min(time.Minute<<min(due.Tries-1, 6), time.Hour))
	}
	m, err := json.Marshal(due)
	if err != nil {
		return err
	}
	if err := s.v.SetSyncMeta(ctx, "refused_retry", string(m)); err != nil {
		return err
	}
	return s.keepRefused(ctx, events, append(got.refused, got.lost...))
}

// pendingRefused counts the refused or lost events kept to fetch again.
func (s *Syncer) pendingRefused(ctx context.Context) (int, error) {
	b, err := s.v.SyncMeta(ctx, "refused")
	if err != nil || b == "" {
		return 0, err
	}
	var list []wire.Event
	if json.Unmarshal([]byte(b), &list) != nil {
		return 0, nil
	}
	return len(list), nil
}

// retryDue is when refused objects are fetched again (sync meta
// "refused_retry"): after 1, 2, 4 … minutes, at most an hour.
type retryDue struct {
	Tries int       `json:"tries"`
	Next  time.Time `json:"next"`
}

// keepRefused updates the list of refused events to fetch again: the
// events of tried go, those refused (again, or for the first time) stay.
func (s *Syncer) keepRefused(ctx context.Context, tried []wire.Event, refused []refusal) error {
	if len(tried) == 0 && len(refused) == 0 {
		return nil
	}
	b, err := s.v.SyncMeta(ctx, "refused")
	if err != nil {
		return err
	}
	var list []wire.Event
	if b != "" {
		_ = json.Unmarshal([]byte(b), &list)
	}
	drop := map[wire.HexID]bool{}
	for _, e := range tried {
		drop[e.ID] = true
	}
	var keep []wire.Event
	for _, e := range list {
		if !drop[e.ID] {
			keep = append(keep, e)
		}
	}
	for _, r := range refused {
		if !slices.ContainsFunc(keep, func(e wire.Event) bool { return e.ID == r.event.ID }) {
			keep = append(keep, r.event)
		}
	}
	if len(keep) > maxRefused {
		keep = keep[len(keep)-maxRefused:]
	}
	if len(keep) == 0 {
		return s.v.SetSyncMeta(ctx, "refused", "")
	}
	out, err := json.Marshal(keep)
	if err != nil {
		return err
	}
	return s.v.SetSyncMeta(ctx, "refused", string(out))
}

func kindIn(k object.Kind, ks []object.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func (s *Syncer) pullChunks(ctx context.Context, m *vault.Manifest) (int64, error) {
	var mu sync.Mutex
	var got int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	seen := map[object.ID]bool{}
	for _, ref := range m.Chunks {
		if seen[ref.ID] {
			continue
		}
		seen[ref.ID] = true
		g.Go(func() error {
			if known, err := s.v.Known(gctx, object.KindChunk, ref.ID); err != nil || known {
				return err
			}
			data, err := s.get(gctx, object.KindChunk, ref.ID, m.Folder)
			if err != nil {
				return err
			}
			mu.Lock()
			got += int64(len(data))
			mu.Unlock()
			return s.v.ReceiveChunk(gctx, m, ref, data)
		})
	}
	return got, g.Wait()
}

// get fetches an object; a chunk is fetched from its folder (the server
// keeps chunks by folder and ID: docs/sync-protocol.md, "Objects").
func (s *Syncer) get(ctx context.Context, kind object.Kind, id, folder object.ID) ([]byte, error) {
	var h http.Header
	if kind == object.KindChunk {
		h = http.Header{wire.HeaderFolder: {folder.String()}}
	}
	resp, err := s.conn.Do(ctx, Request{Method: "GET", Path: "/v1/objects/" + kind.String() + "/" + id.String(), Header: h})
	if err != nil {
		return nil, fmt.Errorf("fetch %v %s: %w", kind, id.String()[:12], err)
	}
	return resp.Body, nil
}

// Reach checks that the organisation's server answers this device, with
// a small signed request (its user's pairing requests).
func (s *Syncer) Reach(ctx context.Context) error {
	_, err := s.conn.JSON(ctx, "GET", "/v1/pairings", nil, nil, nil)
	return err
}

// PushAudit sends this device's audit entries the server does not hold.
// Calls at once (a background sync, an export waiting for its record) go
// one after the other.
func (s *Syncer) PushAudit(ctx context.Context) error {
	s.auditMu.Lock()
	defer s.auditMu.Unlock()
	for {
		rows, err := s.v.UnsentAudit(ctx, wire.MaxAuditBatch)
		if err != nil || len(rows) == 0 {
			return err
		}
		var b wire.AuditBatch
		for _, r := range rows {
			b.Entries = append(b.Entries, wire.AuditEntry{Seq: r.Seq, At: r.At.UnixNano(), Action: r.Action, Outcome: r.Outcome,
				Sealed: r.Sealed, Prev: r.Prev, Hash: r.Hash, Sig: r.Sig})
		}
		if b.Details, b.DetailsSig, err = s.v.SealAuditDetails(ctx, rows, s.auditRecipients()); err != nil {
			return err
		}
		var head wire.AuditHead
		if _, err := s.conn.JSON(ctx, "POST", "/v1/audit", nil, b, &head); err != nil {
			return fmt.Errorf("send the audit trail: %w", err)
		}
		last := rows[len(rows)-1]
		if head.Seq != last.Seq || !bytes.Equal(head.Hash, last.Hash) {
			return errors.New("the server's head of this device's audit trail is not the entry sent")
		}
		if err := s.v.MarkAuditSent(ctx, last.Seq); err != nil {
			return err
		}
		if len(rows) < wire.MaxAuditBatch {
			return nil
		}
	}
}

// Watch keeps the vault in sync until ctx ends: it waits on the change
// feed (a long poll) and pulls when something arrives, pushes local
// changes when kicked or every few seconds, and retries after errors with
// a growing pause. report is called after each round with what moved and
// the error, if any (offline, a rejected object).
func (s *Syncer) Watch(ctx context.Context, report func(Stats, error)) error {
	wake := make(chan struct{}, 1)
	go s.waitFeed(ctx, wake)
	pause := time.Second
	tick := time.NewTicker(3 * time.Second)
	defer tick.Stop()
	for {
		st, err := s.Sync(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if report != nil {
			report(st, err)
		}
		wait := tick.C
		if err != nil {
			t := time.NewTimer(pause)
			pause = min(pause*2, time.Minute)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			case <-s.kick:
			}
			continue
		}
		pause = time.Second
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-s.kick:
		case <-wait:
		}
	}
}

// waitFeed listens to the feed's stream from the vault's cursor and
// signals wake whenever events arrive; when the stream breaks it starts
// again (after a pause if it broke at once).
func (s *Syncer) waitFeed(ctx context.Context, wake chan<- struct{}) {
	for ctx.Err() == nil {
		cursor, err := s.v.FeedCursor(ctx)
		if err != nil {
			return
		}
		started := time.Now()
		err = StreamFeed(ctx, s.conn, cursor, nil, func(wire.Event) {
			select {
			case wake <- struct{}{}:
			default:
			}
		})
		if ctx.Err() != nil {
			return
		}
		if err != nil && time.Since(started) < 5*time.Second {
			sleep(ctx, 2*time.Second)
		}
	}
}

// MarshalStats writes stats as the JSON `coffer sync --json` prints.
func MarshalStats(st Stats) []byte {
	b, _ := json.Marshal(st)
	return b
}
