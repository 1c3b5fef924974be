package orglog

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/coffer-vault/coffer/internal/notekey"
	"github.com/coffer-vault/coffer/vault/object"
)

// Hashes is a log's stored hashes in memory (tlog's storage order), for a
// client that keeps every entry or a test. Its ReadHashes makes it a
// tlog.HashReader.
type Hashes []tlog.Hash

// ReadHashes implements tlog.HashReader.
func (h Hashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(h)) {
			return nil, fmt.Errorf("orglog: stored hash %d is not held (%d held)", x, len(h))
		}
		out[i] = h[x]
	}
	return out, nil
}

// Append adds the stored hashes of record number n (0-based; n records
// came before it).
func (h *Hashes) Append(n int64, record []byte) error {
	if int64(len(*h)) != tlog.StoredHashCount(n) {
		return fmt.Errorf("orglog: %d stored hashes do not describe %d records", len(*h), n)
	}
	add, err := tlog.StoredHashes(n, record, *h)
	if err != nil {
		return err
	}
	*h = append(*h, add...)
	return nil
}

// TreeHash returns the tree hash of the first n records.
func (h Hashes) TreeHash(n int64) (tlog.Hash, error) { return tlog.TreeHash(n, h) }

// Checkpoint is the server's signed statement of the log's size and tree
// hash at a time.
type Checkpoint struct {
	Org  object.ID
	Size int64
	Hash tlog.Hash
	Time time.Time
}

const checkpointHead = "coffer org log v1"

// Text returns the checkpoint's note text.
func (c Checkpoint) Text() string {
	return fmt.Sprintf("%s\norg %s\nsize %d\nhash %s\ntime %d\n", checkpointHead, c.Org, c.Size,
		base64.StdEncoding.EncodeToString(c.Hash[:]), c.Time.UnixNano())
}

// Sign signs the checkpoint with the server key.
func (c Checkpoint) Sign(server ed25519.PrivateKey) ([]byte, error) {
	return notekey.Sign(c.Text(), ServerName, server)
}

// OpenCheckpoint verifies a checkpoint signed by the server key and parses
// it strictly.
func OpenCheckpoint(msg []byte, server ed25519.PublicKey) (Checkpoint, error) {
	var c Checkpoint
	if len(msg) > 4096 {
		return c, errors.New("orglog: checkpoint too large")
	}
	text, err := notekey.Open(msg, ServerName, server)
	if err != nil {
		return c, fmt.Errorf("orglog: checkpoint not signed by the server key: %w", err)
	}
	lines := strings.Split(text, "\n")
	bad := fmt.Errorf("orglog: %w: malformed checkpoint", ErrMalformed)
	if len(lines) != 6 || lines[0] != checkpointHead || lines[5] != "" {
		return c, bad
	}
	get := func(line, name string) (string, bool) { return strings.CutPrefix(line, name+" ") }
	org, ok1 := get(lines[1], "org")
	size, ok2 := get(lines[2], "size")
	hash, ok3 := get(lines[3], "hash")
	tm, ok4 := get(lines[4], "time")
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return c, bad
	}
	if c.Org, err = parseHexID(org); err != nil {
		return c, bad
	}
	if c.Size, err = strconv.ParseInt(size, 10, 64); err != nil || c.Size < 0 {
		return c, bad
	}
	h, err := base64.StdEncoding.Strict().DecodeString(hash)
	if err != nil || len(h) != tlog.HashSize {
		return c, bad
	}
	copy(c.Hash[:], h)
	ns, err := strconv.ParseInt(tm, 10, 64)
	if err != nil {
		return c, bad
	}
	c.Time = time.Unix(0, ns).UTC()
	if c.Text() != text {
		return c, bad
	}
	return c, nil
}
