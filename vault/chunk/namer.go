// Package chunk splits content into content-defined chunks and names each
// chunk by a keyed hash of its plaintext, so that identical chunks of one
// folder dedupe while a name tells whoever stores it nothing about the
// content.
package chunk

import (
	"errors"

	"github.com/zeebo/blake3"

	"github.com/coffer-vault/coffer/vault/object"
)

// Namer computes chunk IDs: keyed BLAKE3 of the plaintext, 32 bytes.
type Namer struct {
	key []byte
}

// NewNamer returns a Namer for a 32-byte key.
func NewNamer(key []byte) (*Namer, error) {
	if len(key) != 32 {
		return nil, errors.New("chunk: naming key must be 32 bytes")
	}
	return &Namer{key: append([]byte(nil), key...)}, nil
}

// ID returns the chunk ID of data.
func (n *Namer) ID(data []byte) object.ID {
	h, err := blake3.NewKeyed(n.key)
	if err != nil {
		panic("chunk: " + err.Error()) // key length is checked by NewNamer
	}
	h.Write(data)
	var id object.ID
	h.Sum(id[:0])
	return id
}
