package orglog

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/coffer-vault/coffer/vault/object"
)

// EpochCommitment is what an epoch entry commits to: SHA-256 of
//
//	"coffer epoch key v1\x00" ‖ folder ID (32 bytes) ‖ epoch (8 bytes, big
//	endian) ‖ the epoch's age hybrid recipient ‖ "\x00" ‖ its chunk key
//
// It binds the epoch's number to one key: a reader takes a keyring of
// any epoch only if its key is the one the log committed to, so
// nobody — a manager before being taken off the folder, a server — can
// slip a key of their own in as an epoch. The chunk key is secret and
// random (32 bytes), so the commitment reveals nothing of it.
func EpochCommitment(folder object.ID, epoch int64, recipient string, chunkKey []byte) []byte {
	h := sha256.New()
	h.Write([]byte("coffer epoch key v1\x00"))
	h.Write(folder[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(epoch))
	h.Write(n[:])
	h.Write([]byte(recipient))
	h.Write([]byte{0})
	h.Write(chunkKey)
	return h.Sum(nil)
}
