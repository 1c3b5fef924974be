package client

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coffer-vault/coffer/sync/orglog"
	"github.com/coffer-vault/coffer/sync/wire"
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
