package chunk

import (
	"errors"
	"io"

	chunkers "github.com/PlakarKorp/go-cdc-chunkers"
	// The library registers its algorithms by name in init; this is its
	// only API, so the blank import is confined to this file.
	_ "github.com/PlakarKorp/go-cdc-chunkers/chunkers/fastcdc"
)

// Chunk size bounds. Normalised FastCDC keeps most chunks near NormalSize,
// so a 1-byte edit usually costs one ~512 KiB chunk of upload.
const (
	MinSize    = 512 << 10
	NormalSize = 1 << 20
	MaxSize    = 4 << 20
)

// algorithm is FastCDC with masks computed for NormalSize (the library's
// "fastcdc" name keeps 8 KiB masks for compatibility).
const algorithm = "fastcdc-v1.0.0"

// Splitter cuts a stream into content-defined chunks. Its gear table is
// derived from a secret key, so where a folder's chunks are cut — and hence
// their sizes, which a server sees — depends on a key the server does not
// have; this blunts fingerprinting of known files by their chunk sizes.
type Splitter struct {
	key []byte
}

// NewSplitter returns a Splitter keyed by a 32-byte key.
func NewSplitter(key []byte) (*Splitter, error) {
	if len(key) != 32 {
		return nil, errors.New("chunk: boundary key must be 32 bytes")
	}
	return &Splitter{key: append([]byte(nil), key...)}, nil
}

// Split reads r to the end and calls fn with each chunk in order. The slice
// passed to fn is valid only during the call. An empty stream yields no
// chunks.
func (s *Splitter) Split(r io.Reader, fn func(chunk []byte) error) error {
	opts := &chunkers.ChunkerOpts{MinSize: MinSize, NormalSize: NormalSize, MaxSize: MaxSize, Key: s.key}
	c, err := chunkers.NewChunker(algorithm, r, opts)
	if err != nil {
		return err
	}
	for {
		data, err := c.Next()
		if err != nil && err != io.EOF {
			return err
		}
		if len(data) > 0 {
			if ferr := fn(data); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}
