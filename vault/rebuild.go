package vault

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/coffer-vault/coffer/audit"
	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/vault/index"
)

// RebuildReport says what Rebuild found and kept.
type RebuildReport struct {
	Keyrings, Folders, Versions int
	// Skipped lists signed objects that could not be put in the new index,
	// with the reason (another folder of the same name, a forked history).
	Skipped []string
	// Replaced is where the old index was kept, if there was one.
	Replaced string
	// Trail says what became of the audit trail, in words for the user.
	Trail string
}

// Rebuild makes a new index from the signed objects, for a vault whose
// index was removed, rolled back or damaged (Open fails with
// ErrNeedsRebuild). The old index is kept beside it as
// index.db.replaced-<unix time>. The audit trail is not restarted as if
// nothing happened: when the old trail reaches the signed checkpoint it is
// kept whole; otherwise the new trail continues from the checkpoint, and
// its first entry records the rebuild and what was lost. The rebuild is
// audited either way.
func Rebuild(ctx context.Context, dir, passphrase string) (*Vault, *RebuildReport, error) {
	k, err := unlockKeys(dir, func(cfg config) (userSecret, int, error) {
		return unlockUser(dir, cfg, passphrase)
	})
	if err != nil {
		return nil, nil, err
	}
	rep := &RebuildReport{}
	oldRows, oldBase, oldOrg, err := k.replaceIndex(ctx, rep)
	if err != nil {
		return nil, nil, err
	}
	v, err := k.openIndex(ctx, true)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*Vault, *RebuildReport, error) {
		v.Close()
		return nil, nil, fmt.Errorf("vault: rebuild: %w", err)
	}
	cp, cpErr := v.readCheckpoint()
	keep, why := v.keepTrail(oldRows, oldBase, cp, cpErr, rep.Replaced != "")
	switch {
	case keep:
		if err := v.idx.InsertAudit(ctx, oldRows); err != nil {
			return fail(err)
		}
		if oldBase != nil {
			if err := v.idx.SetMeta(ctx, metaAuditBase, oldBase); err != nil {
				return fail(err)
			}
		}
	case cpErr == nil && cp.AuditSeq > 0:
		msg, err := v.signedCheckpoint(cp)
		if err == nil {
			err = v.idx.SetMeta(ctx, metaAuditBase, msg)
		}
		if err != nil {
			return fail(err)
		}
	}
	rep.Trail = why
	if cpErr != nil {
		// The checkpoint is gone or altered: start a new one from what
		// is left, and say that what came before cannot be vouched for.
		fresh := checkpoint{}
		if keep && len(oldRows) > 0 {
			last := oldRows[len(oldRows)-1]
			fresh.AuditSeq = last.Seq
			copy(fresh.AuditHash[:], last.Hash)
		}
		if err := v.writeCheckpoint(fresh); err != nil {
			return fail(err)
		}
	}
	if err := v.restoreOrgLog(ctx, oldOrg); err != nil {
		return fail(err)
	}
	if err := v.loadOrg(ctx); err != nil {
		return fail(err)
	}
	r, err := v.adoptObjects(ctx, nil)
	if err != nil {
		return fail(err)
	}
	rep.Keyrings, rep.Folders, rep.Versions, rep.Skipped = r.keyrings, r.folders, r.versions, r.skipped
	reason := fmt.Sprintf("index rebuilt from the signed objects: %d folders, %d versions; %s", r.folders, r.versions, why)
	if rep.Replaced != "" {
		reason += "; the replaced index is kept as " + filepath.Base(rep.Replaced)
	}
	if _, err := v.AppendAudit(ctx, audit.Event{Action: audit.Rebuild, Outcome: audit.OK, Reason: reason}); err != nil {
		return fail(err)
	}
	if err := v.ensureUpgraded(passphrase); err != nil {
		return fail(err)
	}
	return v, rep, nil
}

// replaceIndex moves index.db (with its WAL) aside and returns the audit
// rows it held, and its signed trail start if it had one, when it is an
// index of this vault that can still be read.
func (k *unlocked) replaceIndex(ctx context.Context, rep *RebuildReport) ([]index.AuditRow, []byte, [][]byte, error) {
	path := filepath.Join(k.dir, indexFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, nil
	}
	var rows []index.AuditRow
	var base []byte
	var org [][]byte
	if old, err := index.Open(ctx, path); err == nil {
		if id, err := old.GetMeta(ctx, "vault"); err == nil && string(id) == string(k.cfg.Vault[:]) {
			rows, _ = old.Audit(ctx)
			base, _ = old.GetMeta(ctx, metaAuditBase)
			if n, err := old.OrgLogSize(ctx); err == nil {
				org, _ = old.OrgEntries(ctx, 0, n)
			}
		}
		old.Close()
	}
	rep.Replaced = path + ".replaced-" + strconv.FormatInt(time.Now().Unix(), 10)
	for _, suffix := range []string{"-wal", "-shm", ""} {
		err := os.Rename(path+suffix, rep.Replaced+suffix)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil, fmt.Errorf("vault: rebuild: keep the old index: %w", err)
		}
	}
	return rows, base, org, nil
}

// restoreOrgLog keeps the org log entries of a replaced index, as far as
// they verify (the rules, the pinned admin key); what is missing is
// fetched again at the next sync and checked against the signed
// checkpoint.
func (v *Vault) restoreOrgLog(ctx context.Context, entries [][]byte) error {
	if v.user.Org == nil || len(entries) == 0 {
		return nil
	}
	st := &orglog.State{}
	var hashes orglog.Hashes
	n := 0
	for i, raw := range entries {
		if _, err := st.Apply(raw, time.Time{}); err != nil {
			break
		}
		if err := hashes.Append(int64(i), raw); err != nil {
			return err
		}
		n = i + 1
	}
	if n == 0 || !st.Admin.Equal(ed25519.PublicKey(v.user.Org.Admin)) {
		return nil
	}
	return v.idx.AppendOrgEntries(ctx, 0, entries[:n], hashes)
}

// keepTrail decides whether the old index's audit rows are carried over:
// only if they form a chain signed by this device that reaches the signed
// checkpoint (or there is no checkpoint to reach). It says in words what
// becomes of the trail.
func (v *Vault) keepTrail(rows []index.AuditRow, base []byte, cp checkpoint, cpErr error, kept bool) (bool, string) {
	entries := make([]audit.Entry, 0, len(rows))
	for _, r := range rows {
		e, err := entryOf(r)
		if err != nil {
			return false, v.lostTrail(cp, cpErr, kept)
		}
		entries = append(entries, e)
	}
	var anchor *audit.Anchor
	if base != nil {
		text, err := v.openNote(base)
		if err != nil {
			return false, v.lostTrail(cp, cpErr, kept)
		}
		c, err := parseCheckpoint(text)
		if err != nil {
			return false, v.lostTrail(cp, cpErr, kept)
		}
		anchor = &audit.Anchor{Seq: c.AuditSeq, Hash: c.AuditHash}
	}
	if len(entries) == 0 && anchor == nil {
		return false, v.lostTrail(cp, cpErr, kept)
	}
	if breaks := audit.VerifyFrom(entries, anchor, v.trust.allowsAudit); len(breaks) > 0 {
		return false, v.lostTrail(cp, cpErr, kept) + fmt.Sprintf(" (the old trail does not verify: %s)", breaks[0])
	}
	if cpErr != nil {
		return true, fmt.Sprintf("the old audit trail (%d entries) is kept, but the signed checkpoint was missing or altered, so entries after them may have been removed", len(entries))
	}
	for _, e := range entries {
		if e.Seq == cp.AuditSeq && e.Hash == cp.AuditHash {
			return true, fmt.Sprintf("the audit trail (%d entries) is kept", len(entries))
		}
	}
	if cp.AuditSeq == 0 {
		return true, fmt.Sprintf("the audit trail (%d entries) is kept", len(entries))
	}
	return false, v.lostTrail(cp, cpErr, kept)
}

func (v *Vault) lostTrail(cp checkpoint, cpErr error, kept bool) string {
	if cpErr != nil || cp.AuditSeq == 0 {
		return "the old audit trail and the signed checkpoint were lost; the trail starts again here"
	}
	where := "the index that held them was removed"
	if kept {
		where = "what is left of them is in the replaced index"
	}
	return fmt.Sprintf("audit entries 1 to %d are not in the index any more (the signed checkpoint vouches that they existed; %s); the trail continues from entry %d", cp.AuditSeq, where, cp.AuditSeq)
}

// signedCheckpoint returns c as a note signed by this device.
func (v *Vault) signedCheckpoint(c checkpoint) ([]byte, error) {
	c.Vault, c.Device = v.cfg.Vault, v.device.Device
	return v.signNote(c.text())
}

// ensureUpgraded rewrites keys/user.age of a vault made before checkpoints,
// as checkState does.
func (v *Vault) ensureUpgraded(passphrase string) error {
	if v.user.Checkpoints && v.user.DeviceKey != nil {
		return nil
	}
	return v.upgradeUserKey(passphrase)
}
