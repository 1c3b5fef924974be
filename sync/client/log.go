package client

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/wire"
	"github.com/coffer-vault/coffer/vault"
)

// FetchLog fetches the org log from entry start to the end of the server's
// current checkpoint, page by page, and returns the entries with the
// checkpoint (signed, unverified: the caller verifies both together).
func FetchLog(ctx context.Context, c *Conn, start int64) ([][]byte, []byte, error) {
	var entries [][]byte
	var checkpoint []byte
	size := int64(-1)
	for next := start; size < 0 || next < size; {
		var page wire.LogEntries
		q := url.Values{"start": {strconv.FormatInt(next, 10)}}
		if size >= 0 {
			q.Set("end", strconv.FormatInt(size, 10))
		}
		if _, err := c.JSON(ctx, "GET", "/v1/log", q, nil, &page); err != nil {
			return nil, nil, err
		}
		if checkpoint == nil {
			checkpoint = page.Checkpoint
			size = checkpointSize(page.Checkpoint)
			if size < 0 {
				return nil, nil, fmt.Errorf("the server's log checkpoint is malformed")
			}
		}
		if page.Start != next || (len(page.Entries) == 0 && next < size) {
			return nil, nil, fmt.Errorf("the server's log pages do not follow on (%d, want %d)", page.Start, next)
		}
		entries = append(entries, page.Entries...)
		next += int64(len(page.Entries))
	}
	return entries, checkpoint, nil
}

// checkpointSize reads the size of a checkpoint without verifying it (the
// verification comes with the entries), or -1.
func checkpointSize(msg []byte) int64 {
	for _, line := range strings.Split(string(msg), "\n") {
		if v, ok := strings.CutPrefix(line, "size "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil && n >= 0 {
				return n
			}
		}
	}
	return -1
}

// VerifyFreshLog verifies a whole log (from entry 0) against a checkpoint
// and the pins of an invite: the genesis entry's admin key, server key and
// TLS key must be the ones pinned. It returns the state and the checkpoint.
func VerifyFreshLog(entries [][]byte, checkpointMsg []byte, inv wire.Invite, serverKey ed25519.PublicKey) (*orglog.State, orglog.Checkpoint, error) {
	cp, err := orglog.OpenCheckpoint(checkpointMsg, serverKey)
	if err != nil {
		return nil, cp, err
	}
	if cp.Org != inv.Org || cp.Size != int64(len(entries)) || cp.Size == 0 {
		return nil, cp, fmt.Errorf("the server's log is of another organisation or incomplete")
	}
	st := &orglog.State{}
	var hashes orglog.Hashes
	for i, raw := range entries {
		if _, err := st.Apply(raw, time.Time{}); err != nil {
			return nil, cp, fmt.Errorf("the organisation's log cannot be trusted: %w", err)
		}
		if err := hashes.Append(int64(i), raw); err != nil {
			return nil, cp, err
		}
	}
	if orglog.AdminFingerprint(st.Admin) != inv.AdminFP {
		return nil, cp, fmt.Errorf("the organisation's admin key is not the one your invite names: this is not your organisation's server")
	}
	if !st.Server.Equal(serverKey) || st.TLS != inv.TLS || st.Org != inv.Org {
		return nil, cp, fmt.Errorf("the organisation's log names another server than the one your invite names")
	}
	if th, err := hashes.TreeHash(cp.Size); err != nil || th != cp.Hash {
		return nil, cp, fmt.Errorf("the server's log does not match its signed checkpoint")
	}
	return st, cp, nil
}

// FetchView fetches a guest's view of the org log, proving growth from a
// tree of size from (docs/sync-protocol.md, "Guests' view of the log").
func FetchView(ctx context.Context, c *Conn, from int64) (*orglog.View, error) {
	var lv wire.LogView
	q := url.Values{"from": {strconv.FormatInt(from, 10)}}
	if _, err := c.JSON(ctx, "GET", "/v1/log/view", q, nil, &lv); err != nil {
		return nil, err
	}
	hash := func(b []byte) (tlog.Hash, error) {
		var h tlog.Hash
		if len(b) != len(h) {
			return h, fmt.Errorf("the server's log view holds a malformed hash")
		}
		copy(h[:], b)
		return h, nil
	}
	v := &orglog.View{Checkpoint: lv.Checkpoint, From: lv.From}
	for _, b := range lv.Tree {
		h, err := hash(b)
		if err != nil {
			return nil, err
		}
		v.Tree = append(v.Tree, h)
	}
	for _, e := range lv.Entries {
		ve := orglog.ViewEntry{Index: e.Index, Raw: e.Entry}
		for _, b := range e.Proof {
			h, err := hash(b)
			if err != nil {
				return nil, err
			}
			ve.Proof = append(ve.Proof, h)
		}
		v.Entries = append(v.Entries, ve)
	}
	return v, nil
}

// syncVaultLog brings a vault's copy of the org log up to date: the whole
// log for a member, the view for a guest (the server says which).
func syncVaultLog(ctx context.Context, c *Conn, v *vault.Vault) (*orglog.State, error) {
	if !v.OrgIsView(ctx) {
		have := int64(0)
		if st := v.OrgState(); st != nil {
			have = st.Size
		}
		entries, cp, err := FetchLog(ctx, c, have)
		if err == nil {
			return v.AcceptOrgLog(ctx, have, entries, cp)
		}
		if !IsCode(err, wire.CodeGuestView) {
			return nil, err
		}
	}
	view, err := FetchView(ctx, c, v.OrgTreeSize())
	if err != nil {
		return nil, err
	}
	return v.AcceptOrgView(ctx, view)
}

// VerifyFreshView verifies a guest's first view against the pins of its
// invite, as VerifyFreshLog does for a whole log.
func VerifyFreshView(view *orglog.View, inv wire.Invite, serverKey ed25519.PublicKey) (*orglog.State, orglog.Checkpoint, error) {
	cp, err := view.Verify(serverKey, inv.Org, 0, tlog.Hash{})
	if err != nil {
		return nil, cp, fmt.Errorf("the organisation's log cannot be trusted: %w", err)
	}
	st := &orglog.State{}
	for _, e := range view.Entries {
		if _, err := st.ApplyAt(e.Raw, e.Index, time.Time{}); err != nil {
			return nil, cp, fmt.Errorf("the organisation's log cannot be trusted: %w", err)
		}
	}
	if orglog.AdminFingerprint(st.Admin) != inv.AdminFP {
		return nil, cp, fmt.Errorf("the organisation's admin key is not the one your invite names: this is not your organisation's server")
	}
	if !st.Server.Equal(serverKey) || st.TLS != inv.TLS || st.Org != inv.Org {
		return nil, cp, fmt.Errorf("the organisation's log names another server than the one your invite names")
	}
	return st, cp, nil
}
