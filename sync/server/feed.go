package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault/object"
)

// hub wakes the feed's waiters when this server stores something, and
// keeps the newest events in memory with their encoding, read from the
// store once for all of them: with thousands of devices on the feed, a new
// event must not cost a query or an encoding per device. Servers sharing
// a store hear of each other's writes through store.Notifier (PostgreSQL
// LISTEN/NOTIFY in the scale-out store); besides, the cache is read again
// at least every second and waiters look every few.
type hub struct {
	mu  sync.Mutex
	ch  chan struct{}
	gen uint64 // notifies so far

	cacheMu sync.RWMutex
	recent  []cachedEvent // every event with Seq > floor, ascending
	floor   int64
	loaded  bool
	loadGen uint64
	loadAt  time.Time
}

// cachedEvent is an event with its server-sent-events encoding.
type cachedEvent struct {
	store.Event
	sse []byte // "id: …\ndata: …\n\n"
}

// cacheEvents bounds the events kept in memory.
const cacheEvents = 20000

func newHub() *hub { return &hub{ch: make(chan struct{})} }

// wait returns a channel closed at the next notify.
func (h *hub) wait() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ch
}

func (h *hub) notify() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.gen++
	close(h.ch)
	h.ch = make(chan struct{})
}

// since returns the cached events after seq that keep selects, at most
// limit, and whether the cache covers seq (if not, ask the store).
func (h *hub) since(ctx context.Context, st store.Store, after int64, limit int, keep func(store.Event) bool) ([]cachedEvent, bool, error) {
	h.mu.Lock()
	gen := h.gen
	h.mu.Unlock()
	h.cacheMu.RLock()
	fresh := h.loaded && h.loadGen == gen && time.Since(h.loadAt) <= time.Second
	h.cacheMu.RUnlock()
	if !fresh {
		h.cacheMu.Lock()
		if !h.loaded || h.loadGen != gen || time.Since(h.loadAt) > time.Second {
			if err := h.refresh(ctx, st); err != nil {
				h.cacheMu.Unlock()
				return nil, false, err
			}
			h.loadGen, h.loadAt = gen, time.Now()
		}
		h.cacheMu.Unlock()
	}
	h.cacheMu.RLock()
	defer h.cacheMu.RUnlock()
	if after < h.floor {
		return nil, false, nil
	}
	i := sort.Search(len(h.recent), func(i int) bool { return h.recent[i].Seq > after })
	var out []cachedEvent
	for _, e := range h.recent[i:] {
		if keep(e.Event) {
			out = append(out, e)
			if len(out) == limit {
				break
			}
		}
	}
	return out, true, nil
}

// refresh reads the events stored since the newest cached; cacheMu held.
func (h *hub) refresh(ctx context.Context, st store.Store) error {
	if !h.loaded {
		last, err := st.LastEvent(ctx)
		if err != nil {
			return err
		}
		h.floor, h.loaded = max(0, last-cacheEvents), true
	}
	for {
		from := h.floor
		if n := len(h.recent); n > 0 {
			from = h.recent[n-1].Seq
		}
		more, err := st.AllEvents(ctx, from, 1000)
		if err != nil {
			return err
		}
		for _, e := range more {
			h.recent = append(h.recent, cachedEvent{Event: e, sse: sseEvent(e)})
		}
		if len(h.recent) > cacheEvents {
			drop := len(h.recent) - cacheEvents
			h.floor = h.recent[drop-1].Seq
			h.recent = append([]cachedEvent(nil), h.recent[drop:]...)
		}
		if len(more) < 1000 {
			return nil
		}
	}
}

func sseEvent(e store.Event) []byte {
	b, _ := json.Marshal(toWire(e))
	return []byte(fmt.Sprintf("id: %d\ndata: %s\n\n", e.Seq, b))
}

// errStreamRevoked ends a feed request whose device was revoked while it
// waited.
var errStreamRevoked = fail(http.StatusUnauthorized, wire.CodeRevoked, "this device was revoked by the organisation's admin")

const (
	feedBatch    = 500
	feedRecheck  = 5 * time.Second
	sseHeartbeat = 15 * time.Second
)

func toWire(e store.Event) wire.Event {
	we := wire.Event{Seq: e.Seq, Kind: e.Kind, ID: wire.HexID(e.ID), Log: e.Log}
	if e.Log == 0 {
		f := wire.HexID(e.Space)
		we.Folder = &f
		if !e.File.IsZero() {
			v := wire.HexID(e.File)
			we.File = &v
		}
		if !e.Parent.IsZero() {
			v := wire.HexID(e.Parent)
			we.Parent = &v
		}
	}
	return we
}

// getFeed is the long poll: events after the cursor, waiting up to wait
// seconds for the first.
func (s *Server) getFeed(w http.ResponseWriter, r *http.Request, c *caller) error {
	q := r.URL.Query()
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if err != nil || after < 0 {
		return fail(http.StatusBadRequest, wire.CodeBadRequest, "bad cursor")
	}
	wait, _ := strconv.Atoi(q.Get("wait"))
	deadline := time.After(time.Duration(min(max(wait, 0), wire.MaxFeedWait)) * time.Second)
	for {
		woken := s.feed.wait()
		events, err := s.events(r.Context(), after, c)
		if err != nil {
			return err
		}
		if len(events) > 0 || wait <= 0 {
			out := wire.Feed{Events: make([]wire.Event, len(events)), Next: after}
			for i, e := range events {
				out.Events[i] = toWire(e.Event)
				out.Next = e.Seq
			}
			writeJSON(w, http.StatusOK, out)
			return nil
		}
		select {
		case <-woken:
		case <-time.After(feedRecheck):
		case <-deadline:
			wait = 0
		case <-r.Context().Done():
			return nil
		}
	}
}

// streamFeed sends the feed as server-sent events, resuming after the
// cursor (or Last-Event-ID), until the client goes.
func (s *Server) streamFeed(w http.ResponseWriter, r *http.Request, c *caller) error {
	after, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		after, err = strconv.ParseInt(v, 10, 64)
	}
	if err != nil || after < 0 {
		return fail(http.StatusBadRequest, wire.CodeBadRequest, "bad cursor")
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	send := func(text string) error {
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := fmt.Fprint(w, text); err != nil {
			return err
		}
		return rc.Flush()
	}
	sendRaw := func(b []byte) error {
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	}
	// Counted before the client hears of the stream.
	s.metrics.streams.Inc()
	defer s.metrics.streams.Dec()
	if err := send(": coffer feed\n\n"); err != nil {
		return nil
	}
	for {
		woken := s.feed.wait()
		events, err := s.events(r.Context(), after, c)
		if err != nil {
			return nil // the stream has started; the client reconnects
		}
		for _, e := range events {
			if err := sendRaw(e.sse); err != nil {
				return nil
			}
			after = e.Seq
		}
		if len(events) == feedBatch {
			continue
		}
		select {
		case <-woken:
		case <-time.After(sseHeartbeat):
			if err := send(": keep-alive\n\n"); err != nil {
				return nil
			}
		case <-r.Context().Done():
			return nil
		}
	}
}

// events reads the feed after a cursor for a user: log entries and the
// events of the spaces the log, as it stands (within a second), lets them
// read — from the hub's cache, or the store for a cursor older than it
// holds.
//
// The device is looked up in the log as it stands too, not as it stood
// when the request was authenticated: a stream opened before its device
// was revoked ends (errStreamRevoked), and one whose device is ordered
// wiped carries the log's events alone, from which it learns of the order.
// A revoked device's open stream went on delivering its user's folders'
// events, those of folders shared after the revocation included.
func (s *Server) events(ctx context.Context, after int64, c *caller) ([]cachedEvent, error) {
	st, err := s.orgStateRecent(ctx)
	if err != nil {
		return nil, err
	}
	var spaces []object.ID
	switch dev := st.Devices[c.device.ID]; {
	case dev == nil:
		return nil, errStreamRevoked
	case dev.Wipe != nil: // a device with a wipe pending learns of it from the log alone
	case dev.Revoked:
		return nil, errStreamRevoked
	default:
		email := c.device.Email
		spaces = append(st.FoldersOf(email, s.now()), UserSpace(email))
	}
	set := make(map[object.ID]bool, len(spaces))
	for _, sp := range spaces {
		set[sp] = true
	}
	out, ok, err := s.feed.since(ctx, s.store, after, feedBatch, func(e store.Event) bool { return e.Log > 0 || set[e.Space] })
	if err != nil || ok {
		return out, err
	}
	evs, err := s.store.Events(ctx, after, spaces, feedBatch)
	out = make([]cachedEvent, len(evs))
	for i, e := range evs {
		out[i] = cachedEvent{Event: e, sse: sseEvent(e)}
	}
	return out, err
}
