package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/wire"
)

// hub wakes the feed's waiters when this server stores something. (Several
// servers would each need to hear of the others' writes: PostgreSQL
// LISTEN/NOTIFY in the scale-out store; until then waiters also wake every
// few seconds to look.)
type hub struct {
	mu sync.Mutex
	ch chan struct{}
}

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
	close(h.ch)
	h.ch = make(chan struct{})
}

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
				out.Events[i] = toWire(e)
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
			b, _ := json.Marshal(toWire(e))
			if err := send(fmt.Sprintf("id: %d\ndata: %s\n\n", e.Seq, b)); err != nil {
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
// events of the spaces the log, as it stands now, lets them read.
func (s *Server) events(ctx context.Context, after int64, c *caller) ([]store.Event, error) {
	if c.device.Revoked {
		// A device with a wipe pending learns of it from the log alone.
		return s.store.Events(ctx, after, nil, feedBatch)
	}
	st, err := s.orgState(ctx)
	if err != nil {
		return nil, err
	}
	email := c.device.Email
	spaces := append(st.FoldersOf(email, s.now()), UserSpace(email))
	return s.store.Events(ctx, after, spaces, feedBatch)
}
