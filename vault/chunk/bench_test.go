package chunk

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	chunkers "github.com/PlakarKorp/go-cdc-chunkers"
	_ "github.com/PlakarKorp/go-cdc-chunkers/chunkers/jc"
)

var benchData = func() []byte {
	b := make([]byte, 64<<20)
	rand.NewChaCha8([32]byte{9}).Read(b)
	return b
}()

// BenchmarkCut is the chunker as import runs it: cuts in a buffer already
// read, no copy.
func BenchmarkCut(b *testing.B) {
	s, _ := NewSplitter(bytes.Repeat([]byte{1}, 32))
	b.SetBytes(int64(len(benchData)))
	for b.Loop() {
		for w := benchData; len(w) > 0; {
			w = w[s.Cut(w, true):]
		}
	}
}

// BenchmarkLibrary runs go-cdc-chunkers' keyed algorithms with Coffer's
// sizes over the same data, reading from memory: fastcdc-v1.0.0 (the cut
// points Cut reproduces) and jc-v1.0.0 (jump-based, other cut points).
func BenchmarkLibrary(b *testing.B) {
	for _, alg := range []string{"fastcdc-v1.0.0", "jc-v1.0.0"} {
		b.Run(alg, func(b *testing.B) {
			opts := &chunkers.ChunkerOpts{MinSize: MinSize, NormalSize: NormalSize, MaxSize: MaxSize, Key: bytes.Repeat([]byte{1}, 32)}
			b.SetBytes(int64(len(benchData)))
			for b.Loop() {
				c, err := chunkers.NewChunker(alg, bytes.NewReader(benchData), opts)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.Copy(io.Discard); err != io.EOF {
					b.Fatal(err)
				}
			}
		})
	}
}
