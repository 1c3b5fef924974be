package server

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"filippo.io/age"

	"github.com/coffer-vault/coffer/policy"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/store"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault/object"
)

const metaBootstrap = "bootstrap-token"

// maxLogRange bounds one GET /v1/log.
const maxLogRange = 5000

// bootstrap creates the organisation from the admin's genesis entry, once,
// with the token the server wrote to its data folder.
func (s *Server) bootstrap(w http.ResponseWriter, r *http.Request) {
	body, err := readLimited(w, r, 64<<10)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	var b wire.Bootstrap
	if err := decode(body, &b); err != nil {
		s.respond(w, r, err)
		return
	}
	ctx := r.Context()
	want, err := s.store.GetMeta(ctx, metaBootstrap)
	sum := sha256.Sum256([]byte(b.Token))
	if err != nil || len(want) != len(sum) || subtle.ConstantTimeCompare(want, sum[:]) != 1 {
		s.respond(w, r, fail(http.StatusUnauthorized, wire.CodeUnauthorized,
			"the bootstrap token is wrong or was used: cofferd serve printed it at its start (with embedded storage, it is also in the data folder, file bootstrap-token)"))
		return
	}
	e, err := orglog.Parse(b.Genesis)
	if err != nil || e.Kind != orglog.Genesis {
		s.respond(w, r, fail(http.StatusBadRequest, wire.CodeRejected, "not a genesis entry"))
		return
	}
	if !e.Server.Equal(s.PublicKey()) || e.TLS != s.tls {
		s.respond(w, r, fail(http.StatusBadRequest, wire.CodeRejected, "the genesis entry names another server key or TLS key than this server's"))
		return
	}
	if _, err := s.appendEntries(ctx, 0, b.Genesis); err != nil {
		s.respond(w, r, err)
		return
	}
	_ = s.store.PutMeta(ctx, metaBootstrap, want, []byte("used"))
	// A shared store's token itself is not kept past its use.
	s.forgetSharedToken(context.WithoutCancel(ctx))
	s.log.Info("organisation created", "org", e.Org.String(), "name", e.Name)
	cp, err := s.checkpoint(ctx)
	if err != nil {
		s.respond(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.LogEntries{Entries: [][]byte{b.Genesis}, Checkpoint: cp})
}

func readLimited(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, fail(http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "the request body is over the limit or cut short")
	}
	return body, nil
}

// appendEntries validates entries against the log as it stands when the
// log has size n (or at any size if n < 0) and appends them. Either all are
// appended or, when a check fails, none (entries are validated first).
func (s *Server) appendEntries(ctx context.Context, n int64, raws ...[]byte) ([]*orglog.Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.orgStateLocked(ctx)
	if err != nil {
		return nil, err
	}
	if n >= 0 && st.Size != n {
		return nil, fail(http.StatusConflict, wire.CodeConflict, "the log changed meanwhile; try again")
	}
	// Validate on a copy, so that the published state is untouched if
	// one of them fails (a copy, not a replay: replaying verifies every
	// entry's signatures again, seconds per append in a large org).
	trial := st.Clone()
	now := s.now()
	var out []*orglog.Entry
	for _, raw := range raws {
		e, err := trial.Apply(raw, now)
		if err != nil {
			return nil, fail(http.StatusBadRequest, wire.CodeRejected, "%v", err)
		}
		out = append(out, e)
	}
	// The published state is never changed in place (handlers read it
	// without the lock): the trial becomes it once all are stored.
	// All of them in one transaction: an enrolment's user entry stored
	// without its device entry (a crash between two) would leave a user
	// no invite can enrol and no device can pair.
	hashes := append(orglog.Hashes(nil), s.hashes...)
	records := make([]store.LogRecord, len(raws))
	for i, raw := range raws {
		before := len(hashes)
		if err := hashes.Append(st.Size+int64(i), raw); err != nil {
			return nil, err
		}
		records[i] = store.LogRecord{Entry: raw, Hashes: hashes[before:]}
	}
	if err := s.store.AppendLog(ctx, st.Size, records...); err != nil {
		s.state, s.hashes = nil, nil // read the log afresh next time
		if errors.Is(err, store.ErrConflict) {
			return nil, fail(http.StatusConflict, wire.CodeConflict, "the log changed meanwhile; try again")
		}
		return nil, err
	}
	s.state, s.hashes = trial, hashes
	s.metrics.logEntries.Set(float64(trial.Size))
	s.feed.notify()
	return out, nil
}

// checkpoint signs the log's current size and tree hash.
func (s *Server) checkpoint(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.orgStateLocked(ctx)
	if err != nil {
		return nil, err
	}
	h, err := s.hashes.TreeHash(st.Size)
	if err != nil {
		return nil, err
	}
	return orglog.Checkpoint{Org: st.Org, Size: st.Size, Hash: h, Time: s.now()}.Sign(s.key)
}

func (s *Server) getLog(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	if email, guest := c.guest(); guest {
		return fail(http.StatusForbidden, wire.CodeGuestView, "%s is a guest: guests read the log as a view (GET /v1/log/view)", email)
	}
	cp, err := s.checkpoint(ctx)
	if err != nil {
		return err
	}
	// The entries are read after the checkpoint: there are at least as
	// many, and the client checks the first Size of them against it.
	n := c.state.Size
	start, end := int64(0), n
	if v := r.URL.Query().Get("start"); v != "" {
		if start, err = strconv.ParseInt(v, 10, 64); err != nil || start < 0 {
			return fail(http.StatusBadRequest, wire.CodeBadRequest, "bad start")
		}
	}
	if v := r.URL.Query().Get("end"); v != "" {
		if end, err = strconv.ParseInt(v, 10, 64); err != nil || end < start {
			return fail(http.StatusBadRequest, wire.CodeBadRequest, "bad end")
		}
	}
	st, err := s.orgState(ctx)
	if err != nil {
		return err
	}
	end = min(end, st.Size, start+maxLogRange)
	entries := [][]byte{}
	if start < end {
		if entries, err = s.store.LogEntries(ctx, start, end); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, wire.LogEntries{Start: start, Entries: entries, Checkpoint: cp})
	return nil
}

// appendLog appends an entry: the admin's invites, revocations, role
// changes, grants and policies; a device's folder, anchor, share, unshare
// and epoch entries for its own user (the entry's signature is the user key's, which
// Apply checks; the caller must be a device of that user).
func (s *Server) appendLog(w http.ResponseWriter, r *http.Request, c *caller) error {
	var a wire.LogAppend
	if err := decode(c.body, &a); err != nil {
		return err
	}
	e, err := orglog.Parse(a.Entry)
	if err != nil {
		return fail(http.StatusBadRequest, wire.CodeRejected, "%v", err)
	}
	if c.kind == "admin" {
		switch e.Kind {
		case orglog.Invite, orglog.Revoke, orglog.Role, orglog.Grant, orglog.Policy, orglog.Wipe, orglog.Class:
		default:
			return fail(http.StatusBadRequest, wire.CodeRejected, "the admin does not append %s entries here", e.Kind)
		}
	} else {
		switch {
		case (e.Kind == orglog.Folder || e.Kind == orglog.Anchor) && e.Email == c.device.Email:
		case (e.Kind == orglog.Share || e.Kind == orglog.Unshare || e.Kind == orglog.Epoch) && e.By == c.device.Email:
		default:
			return fail(http.StatusForbidden, wire.CodeRejected, "a device appends its own user's folder, anchor, share, unshare and epoch entries, not this %s entry", e.Kind)
		}
	}
	if _, err := s.appendEntries(r.Context(), -1, a.Entry); err != nil {
		return err
	}
	s.log.Info("log entry appended", "kind", string(e.Kind))
	cp, err := s.checkpoint(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wire.LogEntries{Checkpoint: cp})
	return nil
}

// enroll appends a new user and their first device, signed by the invite
// key that made the request. A user entry already in the log (a retry
// after a lost answer) is not appended again.
func (s *Server) enroll(w http.ResponseWriter, r *http.Request, c *caller) error {
	var en wire.Enroll
	if err := decode(c.body, &en); err != nil {
		return err
	}
	ctx := r.Context()
	ue, err := orglog.Parse(en.User)
	if err != nil || ue.Kind != orglog.User || !ue.Invite.Equal(c.invite.Key) {
		return fail(http.StatusBadRequest, wire.CodeRejected, "the user entry is malformed or not for this invite")
	}
	de, err := orglog.Parse(en.Device)
	if err != nil || de.Kind != orglog.Device || de.Email != ue.Email {
		return fail(http.StatusBadRequest, wire.CodeRejected, "the device entry is malformed or for another user")
	}
	if err := checkDeviceCert(en.DeviceCert, de, ue.Key); err != nil {
		return err
	}
	entries := [][]byte{en.User, en.Device}
	if u := c.state.Users[ue.Email]; u != nil && !c.state.EnrolsAnew(c.invite) {
		// Only the retry of this very enrolment (its answer was lost): the
		// device is in the log already. Any other device of an enrolled
		// user is paired by one of their devices — not added with the
		// invite, which a person taken off the organisation still holds;
		// a person every device of whom is revoked enrols anew with an
		// invite made since (orglog.State.EnrolsAnew).
		if !u.Key.Equal(ue.Key) || c.state.Devices[de.Device] == nil {
			return fail(http.StatusConflict, wire.CodeInvite, "%s is enrolled already: to add this device, ask to pair it", ue.Email)
		}
		entries = nil
	}
	if len(entries) > 0 {
		if _, err := s.appendEntries(ctx, -1, entries...); err != nil {
			return err
		}
	}
	if _, err := s.store.PutObject(ctx, store.ObjectMeta{Kind: object.KindDevice, ID: de.Device, Space: UserSpace(de.Email), Device: de.Device}, en.DeviceCert); err != nil {
		return err
	}
	s.feed.notify()
	// The device is seen as it enrols (cofferd admin devices said "never"
	// until its first sync).
	_ = s.store.TouchDevice(ctx, de.Device, clientIP(r), clientOS(r), s.now())
	s.log.Info("device enrolled", "device", de.Device.String(), "new_user", len(entries) == 2)
	cp, err := s.checkpoint(ctx)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wire.LogEntries{Checkpoint: cp})
	return nil
}

// checkDeviceCert checks that an uploaded device certificate envelope is
// the one of the device entry, signed by the user key.
func checkDeviceCert(data []byte, de *orglog.Entry, user ed25519.PublicKey) error {
	o, err := object.Open(data, object.KindDevice, de.Device)
	if err != nil {
		return fail(http.StatusBadRequest, wire.CodeRejected, "the device certificate: %v", err)
	}
	if !o.Signer.Equal(user) {
		return fail(http.StatusBadRequest, wire.CodeRejected, "the device certificate is not signed by the user key")
	}
	return nil
}

// maxPairings bounds the pairing requests waiting for one user: each
// lives 15 minutes, and an invite could file them without end.
const maxPairings = 8

func (s *Server) requestPairing(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req wire.PairingRequest
	if err := decode(c.body, &req); err != nil {
		return err
	}
	if req.Email != c.invite.Email {
		return fail(http.StatusForbidden, wire.CodeInvite, "this invite is for another e-mail")
	}
	if c.state.Users[req.Email] == nil {
		return fail(http.StatusConflict, wire.CodeInvite, "%s has no enrolled device yet: enrol with the invite first", req.Email)
	}
	if len(req.Key) != 32 || len(req.Transport) != 32 || req.Name == "" || len(req.Name) > 256 {
		return fail(http.StatusBadRequest, wire.CodeBadRequest, "malformed pairing request")
	}
	if _, err := age.ParseHybridRecipient(req.Recipient); err != nil {
		return fail(http.StatusBadRequest, wire.CodeBadRequest, "malformed pairing recipient")
	}
	// A pairing is for a new device. One that copies a device of the log
	// (its ID and keys are public there) would be answered, once approved,
	// as the retry of that device's approval: the user's keys sealed to
	// the asker, and no entry for the admin to revoke.
	if c.state.Devices[object.ID(req.Device)] != nil || c.state.KeyKnown(req.Key) || c.state.KeyKnown(req.Transport) {
		return fail(http.StatusConflict, wire.CodeConflict, "the device ID or keys of this request are in the organisation's log already: a pairing is for a new device")
	}
	now := s.now()
	rec := pairingRecord{Request: wire.Marshal(req), From: clientIP(r), OS: clientOS(r), Asked: now.Unix()}
	p := store.Pairing{ID: object.NewRandomID(), Email: req.Email, Request: wire.Marshal(rec), Expires: now.Add(15 * time.Minute)}
	if err := s.store.PutPairing(r.Context(), p, now, maxPairings); errors.Is(err, store.ErrFull) {
		return fail(http.StatusTooManyRequests, wire.CodeBusy, "%d pairing requests for %s are waiting already: approve one on a device of yours, or wait 15 minutes", maxPairings, req.Email)
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wire.Pairing{ID: wire.HexID(p.ID), Request: req, Expires: p.Expires.Unix(), From: rec.From, OS: rec.OS, Asked: rec.Asked})
	return nil
}

// pairingRecord is what the store keeps of a pairing request (its
// Request column): the request as received, and where and when it came
// from. Rows written before there was a record hold the bare request.
type pairingRecord struct {
	Request json.RawMessage `json:"request"`
	From    string          `json:"from"`
	OS      string          `json:"os"`
	Asked   int64           `json:"asked"`
}

// decodePairing fills out (ID and Expires set) from a stored Request
// column: a record, decoded as strictly as the request in it, or else
// (a row of an older server) the bare request.
func decodePairing(stored []byte, out *wire.Pairing) error {
	var rec pairingRecord
	if err := decode(stored, &rec); err != nil || len(rec.Request) == 0 {
		return decode(stored, &out.Request)
	}
	out.From, out.OS, out.Asked = rec.From, rec.OS, rec.Asked
	return decode(rec.Request, &out.Request)
}

func (s *Server) pairing(ctx context.Context, idText, email string) (store.Pairing, wire.Pairing, error) {
	id, err := object.ParseID(idText)
	if err != nil {
		return store.Pairing{}, wire.Pairing{}, fail(http.StatusNotFound, wire.CodeNotFound, "no such pairing")
	}
	p, err := s.store.GetPairing(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.Email != email) {
		return p, wire.Pairing{}, fail(http.StatusNotFound, wire.CodeNotFound, "no such pairing")
	}
	if err != nil {
		return p, wire.Pairing{}, err
	}
	out := wire.Pairing{ID: wire.HexID(p.ID), Expires: p.Expires.Unix(), Bundle: p.Bundle}
	if err := decodePairing(p.Request, &out); err != nil {
		return p, out, err
	}
	out.Refused = p.Bundle == nil && !s.now().Before(p.Expires)
	return p, out, nil
}

func (s *Server) getPairing(w http.ResponseWriter, r *http.Request, c *caller) error {
	_, out, err := s.pairing(r.Context(), r.PathValue("id"), c.invite.Email)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) listPairings(w http.ResponseWriter, r *http.Request, c *caller) error {
	ps, err := s.store.Pairings(r.Context(), c.device.Email, s.now())
	if err != nil {
		return err
	}
	out := []wire.Pairing{}
	for _, p := range ps {
		wp := wire.Pairing{ID: wire.HexID(p.ID), Expires: p.Expires.Unix()}
		if err := decodePairing(p.Request, &wp); err != nil {
			return err
		}
		out = append(out, wp)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// approvePairing appends the new device's entry, signed by the user key,
// stores its certificate, and hands the bundle to the waiting device.
func (s *Server) approvePairing(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	p, wp, err := s.pairing(ctx, r.PathValue("id"), c.device.Email)
	if err != nil {
		return err
	}
	if p.Bundle != nil || wp.Refused {
		return fail(http.StatusConflict, wire.CodeConflict, "this pairing was answered or has expired")
	}
	var a wire.PairingApprove
	if err := decode(c.body, &a); err != nil {
		return err
	}
	de, err := orglog.Parse(a.Device)
	req := wp.Request
	if err != nil || de.Kind != orglog.Device || de.Email != req.Email || de.Device != object.ID(req.Device) ||
		string(de.Key) != string(req.Key) || string(de.Transport) != string(req.Transport) || de.Name != req.Name {
		return fail(http.StatusBadRequest, wire.CodeRejected, "the device entry does not certify the device that asked")
	}
	if len(a.Bundle) == 0 || len(a.Bundle) > 1<<20 {
		return fail(http.StatusBadRequest, wire.CodeBadRequest, "malformed bundle")
	}
	if err := checkDeviceCert(a.DeviceCert, de, c.user.Key); err != nil {
		return err
	}
	// An approval retried after the first stopped part-way (the server
	// crashed or failed after the log took the device entry) finds the
	// device in the log: the certificate and the answer are stored now,
	// instead of "the device ID is taken" and a device in the log that
	// never got its keys.
	switch d := c.state.Devices[de.Device]; {
	case d == nil:
		if _, err := s.appendEntries(ctx, -1, a.Device); err != nil {
			return err
		}
	case d.Revoked || d.Email != de.Email || !d.Key.Equal(de.Key) || !d.Transport.Equal(de.Transport):
		return fail(http.StatusConflict, wire.CodeConflict, "the log holds another device with this ID, or it was revoked: start the pairing again")
	}
	if _, err := s.store.PutObject(ctx, store.ObjectMeta{Kind: object.KindDevice, ID: de.Device, Space: UserSpace(de.Email), Device: c.device.ID}, a.DeviceCert); err != nil {
		return err
	}
	if err := s.store.AnswerPairing(ctx, p.ID, a.Bundle); err != nil {
		return err
	}
	s.feed.notify()
	s.log.Info("device paired", "device", de.Device.String(), "approved_by", c.device.ID.String())
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// guest reports whether the caller is a guest (a guest's device, or a
// guest's invite at enrolment), with its e-mail.
func (c *caller) guest() (string, bool) {
	switch {
	case c.device != nil:
		return c.device.Email, c.state.IsGuest(c.device.Email)
	case c.invite != nil && c.state.Users[c.invite.Email] != nil:
		// The user's role now, not the one the invite was made with: a
		// member demoted to guest must not read the directory with the
		// invite she enrolled with.
		return c.invite.Email, c.state.IsGuest(c.invite.Email)
	case c.invite != nil:
		return c.invite.Email, c.invite.Role == policy.Guest
	}
	return "", false
}

// viewOf returns the indexes of a log view (a guest's, or a device's
// ordered wiped), cached by who asks and the log's size: a view is read at
// every sync, and finding it parses the whole log.
func (s *Server) viewOf(entries [][]byte, email string, d *orglog.DeviceState, wiping bool) ([]int64, error) {
	key := fmt.Sprintf("guest/%s/%d", email, len(entries))
	if wiping {
		key = fmt.Sprintf("device/%s/%d", d.ID, len(entries))
	}
	s.viewMu.Lock()
	idx, ok := s.views[key]
	s.viewMu.Unlock()
	if ok {
		return idx, nil
	}
	var err error
	if wiping {
		idx, err = orglog.DeviceView(entries, d.ID)
	} else {
		idx, err = orglog.GuestView(entries, email)
	}
	if err != nil {
		return nil, err
	}
	s.viewMu.Lock()
	if s.views == nil || len(s.views) >= 4096 {
		s.views = map[string][]int64{} // a new log size makes the old keys stale anyway
	}
	s.views[key] = idx
	s.viewMu.Unlock()
	return idx, nil
}

// getLogView serves a guest the entries of the log it needs, each proven
// to be in the log the checkpoint signs, and the proof that the log grew
// from the size the guest saw before (from): no other person, device or
// folder of the organisation (docs/sync-protocol.md, "Guests' view of the
// log").
func (s *Server) getLogView(w http.ResponseWriter, r *http.Request, c *caller) error {
	ctx := r.Context()
	email, guest := c.guest()
	wiping := c.device != nil && c.device.Wipe != nil
	if !guest && !wiping {
		return fail(http.StatusBadRequest, wire.CodeBadRequest, "the log view is for guests: read GET /v1/log")
	}
	var from int64
	if v := r.URL.Query().Get("from"); v != "" {
		var err error
		if from, err = strconv.ParseInt(v, 10, 64); err != nil || from < 0 {
			return fail(http.StatusBadRequest, wire.CodeBadRequest, "bad from")
		}
	}
	s.mu.Lock()
	st, err := s.orgStateLocked(ctx)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	hashes := s.hashes
	size := st.Size
	s.mu.Unlock()
	if from > size {
		return fail(http.StatusConflict, wire.CodeConflict, "the log has %d entries, fewer than the %d you saw: report this server", size, from)
	}
	entries, err := s.store.LogEntries(ctx, 0, size)
	if err != nil {
		return err
	}
	th, err := hashes.TreeHash(size)
	if err != nil {
		return err
	}
	cp, err := orglog.Checkpoint{Org: st.Org, Size: size, Hash: th, Time: s.now()}.Sign(s.key)
	if err != nil {
		return err
	}
	idx, err := s.viewOf(entries, email, c.device, wiping)
	if err != nil {
		return err
	}
	view, err := orglog.Prove(cp, entries, hashes, idx, from)
	if err != nil {
		return err
	}
	out := wire.LogView{Checkpoint: cp, From: view.From, Entries: []wire.LogViewEntry{}}
	for _, h := range view.Tree {
		out.Tree = append(out.Tree, h[:])
	}
	for _, e := range view.Entries {
		we := wire.LogViewEntry{Index: e.Index, Entry: e.Raw}
		for _, h := range e.Proof {
			we.Proof = append(we.Proof, h[:])
		}
		out.Entries = append(out.Entries, we)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
