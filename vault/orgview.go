package vault

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/coffer-vault/coffer/sync/orglog"
)

// A guest's vault holds a view of the org log, not the whole of it
// (docs/sync-protocol.md, "Guests' view of the log"): the entries it
// needs, each proven to be in the log the server's checkpoint signs.

// OrgIsView reports whether the vault holds a guest's view of the log.
func (v *Vault) OrgIsView(ctx context.Context) bool {
	_, _, ok, err := v.idx.OrgView(ctx)
	return ok && err == nil
}

// OrgTreeSize returns the size of the last log checkpoint this device
// verified (what a view must prove growth from).
func (v *Vault) OrgTreeSize() int64 {
	c, err := v.readCheckpoint()
	if err != nil {
		return 0
	}
	return c.OrgSize
}

// AcceptOrgView verifies a view of the org log — signed checkpoint of this
// organisation, grown from the tree this device verified before, every
// entry proven in it and obeying the rules in order — and keeps it in
// place of the one held.
func (v *Vault) AcceptOrgView(ctx context.Context, view *orglog.View) (*orglog.State, error) {
	pin := v.user.Org
	if pin == nil {
		return nil, fmt.Errorf("vault: not enrolled in an organisation")
	}
	mine, err := v.readCheckpoint()
	if err != nil {
		return nil, err
	}
	cp, err := view.Verify(ed25519.PublicKey(pin.Server), pin.Org, mine.OrgSize, mine.OrgHash)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOrgLog, err)
	}
	// The proofs say the new entries are in a log extending the old one,
	// not that the view still holds what the old view showed: a server
	// could drop a shortened grant or the newest policy from later views.
	// A view may only grow.
	if err := v.viewGrows(ctx, view); err != nil {
		return nil, err
	}
	st, err := applyView(view.Entries)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOrgLog, err)
	}
	if !st.Admin.Equal(ed25519.PublicKey(pin.Admin)) {
		return nil, fmt.Errorf("%w: it names another admin key than the one your passphrase protects", ErrOrgLog)
	}
	if err := v.checkOwnEntry(st); err != nil {
		return nil, err
	}
	idx := make([]int64, len(view.Entries))
	raws := make([][]byte, len(view.Entries))
	for i, e := range view.Entries {
		idx[i], raws[i] = e.Index, e.Raw
	}
	if err := v.idx.ReplaceOrgView(ctx, idx, raws); err != nil {
		return nil, err
	}
	err = v.advanceCheckpoint(func(c *checkpoint) bool {
		changed := false
		if cp.Size > c.OrgSize || (cp.Size == c.OrgSize && cp.Hash != c.OrgHash) {
			c.OrgSize, c.OrgHash, changed = cp.Size, cp.Hash, true
		}
		if c.advanceServerTime(cp.Time) {
			changed = true
		}
		return changed
	})
	if err != nil {
		return nil, err
	}
	v.trustOrg(st)
	return st, nil
}

// viewGrows checks that view holds every entry of the view held, at the
// same index with the same bytes.
func (v *Vault) viewGrows(ctx context.Context, view *orglog.View) error {
	idx, raws, ok, err := v.idx.OrgView(ctx)
	if err != nil || !ok {
		return err
	}
	got := make(map[int64][]byte, len(view.Entries))
	for _, e := range view.Entries {
		got[e.Index] = e.Raw
	}
	for i, n := range idx {
		if raw, ok := got[n]; !ok || !bytes.Equal(raw, raws[i]) {
			return fmt.Errorf("%w: the server's view of the log leaves out entry %d it showed before", ErrOrgLog, n)
		}
	}
	return nil
}

func applyView(entries []orglog.ViewEntry) (*orglog.State, error) {
	st := &orglog.State{}
	for _, e := range entries {
		if _, err := st.ApplyAt(e.Raw, e.Index, time.Time{}); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// loadOrgView replays a guest's view at unlock.
func (v *Vault) loadOrgView(ctx context.Context) (*orglog.State, bool, error) {
	idx, raws, ok, err := v.idx.OrgView(ctx)
	if err != nil || !ok {
		return nil, ok, err
	}
	entries := make([]orglog.ViewEntry, len(idx))
	for i := range idx {
		entries[i] = orglog.ViewEntry{Index: idx[i], Raw: raws[i]}
	}
	st, err := applyView(entries)
	if err != nil {
		return nil, true, fmt.Errorf("vault: %w: the organisation's log in the index: %v", ErrTampered, err)
	}
	if len(entries) > 0 && !st.Admin.Equal(ed25519.PublicKey(v.user.Org.Admin)) {
		return nil, true, fmt.Errorf("vault: %w: the organisation's log names another admin key than the one your passphrase protects", ErrTampered)
	}
	return st, true, nil
}
