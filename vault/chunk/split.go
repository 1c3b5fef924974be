package chunk

import (
	"errors"
	"io"
	"math/bits"

	chunkers "github.com/PlakarKorp/go-cdc-chunkers"
	"github.com/PlakarKorp/go-cdc-chunkers/chunkers/fastcdc"
)

// Chunk size bounds. Normalised FastCDC keeps most chunks near NormalSize,
// so a 1-byte edit usually costs one ~1 MiB chunk of upload.
const (
	MinSize    = 512 << 10
	NormalSize = 1 << 20
	MaxSize    = 4 << 20
)

// normalLevel is FastCDC's normalisation level: before NormalSize a cut
// needs log2(NormalSize)+2 chosen bits of the fingerprint to be zero, after
// it log2(NormalSize)-2.
const normalLevel = 2

// Splitter cuts a stream into content-defined chunks with normalised
// FastCDC. Its gear table is derived from a secret key, so where a folder's
// chunks are cut — and hence their sizes, which a server sees — depends on
// a key the server does not have; this blunts fingerprinting of known files
// by their chunk sizes.
//
// The cut points are exactly those of go-cdc-chunkers' keyed
// "fastcdc-v1.0.0" with these sizes, which vaults were written with (the
// gear table is the library's own derivation; a test holds the two
// together), so new versions of a file dedupe against old ones. Only the
// scanning loop is Coffer's: it reads the caller's buffer in place, with no
// copy, and runs about twice as fast as the library's.
type Splitter struct {
	gear         *[256]uint64
	maskS, maskL uint64
}

// NewSplitter returns a Splitter keyed by a 32-byte key.
func NewSplitter(key []byte) (*Splitter, error) {
	if len(key) != 32 {
		return nil, errors.New("chunk: boundary key must be 32 bytes")
	}
	// The library derives the keyed gear table in Setup (BLAKE3 keyed by key
	// over its static table) and exposes it as G.
	impl := &fastcdc.FastCDC{}
	opts := &chunkers.ChunkerOpts{MinSize: MinSize, NormalSize: NormalSize, MaxSize: MaxSize, Key: append([]byte(nil), key...)}
	if err := impl.Setup(opts); err != nil {
		return nil, err
	}
	b := bits.Len(uint(NormalSize)) - 1
	return &Splitter{gear: impl.G, maskS: spacedMask(b + normalLevel), maskL: spacedMask(b - normalLevel)}, nil
}

// spacedMask returns a 64-bit mask of ones one-bits spread evenly from the
// top bit down, as FastCDC's reference implementation makes them.
func spacedMask(ones int) uint64 {
	step := 64 / ones
	var m uint64
	for i := range ones {
		m |= 1 << (63 - i*step)
	}
	return m
}

// Cut returns the length of the chunk that starts at window[0]. window holds
// the stream's next bytes: at least MaxSize of them, or all that are left
// when atEOF is set. With fewer than MaxSize bytes and atEOF unset, Cut
// returns the cut if one lies inside window, and 0 if it needs more data.
// An empty window at EOF gives 0.
func (s *Splitter) Cut(window []byte, atEOF bool) int {
	n := len(window)
	if n > MaxSize {
		n = MaxSize
	}
	short := n < MaxSize && !atEOF
	if n <= MinSize {
		if short {
			return 0
		}
		return n
	}
	normal := NormalSize
	if atEOF && n <= NormalSize {
		// At the end of the stream FastCDC keeps the strict mask up to
		// the last byte.
		normal = n
	}
	var fp uint64
	i := MinSize
	if end := min(normal, n); i < end {
		var j int
		if j, fp = scan(s.gear, window[i:end], s.maskS, fp); j >= 0 {
			return i + j
		}
		i = end
	}
	if i < n {
		if j, _ := scan(s.gear, window[i:n], s.maskL, fp); j >= 0 {
			return i + j
		}
	}
	if short {
		return 0
	}
	return n
}

// lane is how many bytes each of scan's two fingerprint chains covers per
// round.
const lane = 8 << 10

// scan rolls the gear fingerprint fp over data and returns the index of
// the first byte after which fp&mask is zero, or -1 and the fingerprint
// after the last byte.
//
// The fingerprint is a chain of one shift and one add per byte, so a single
// chain runs at its latency, two cycles a byte. scan runs two chains at
// once over adjacent lanes of lane bytes: the fingerprint after byte i
// depends only on bytes i-63..i (older bytes are shifted out), so the
// second lane's chain starts 64 bytes early from zero and is exact from its
// first byte. A hit in the second lane counts only if the first lane has
// none.
func scan(g *[256]uint64, data []byte, mask, fp uint64) (int, uint64) {
	h := fp
	i := 0
	for ; len(data)-i >= 2*lane; i += 2 * lane {
		pa := (*[lane]byte)(data[i : i+lane])
		pb := (*[lane]byte)(data[i+lane : i+2*lane])
		var hb uint64
		for _, c := range data[i+lane-64 : i+lane] {
			hb = hb<<1 + g[c]
		}
		j := 0
		for ; j < lane; j += 4 {
			ha := h<<1 + g[pa[j]]
			hb1 := hb<<1 + g[pb[j]]
			if ha&mask == 0 || hb1&mask == 0 {
				break
			}
			ha = ha<<1 + g[pa[j+1]]
			hb1 = hb1<<1 + g[pb[j+1]]
			if ha&mask == 0 || hb1&mask == 0 {
				break
			}
			ha = ha<<1 + g[pa[j+2]]
			hb1 = hb1<<1 + g[pb[j+2]]
			if ha&mask == 0 || hb1&mask == 0 {
				break
			}
			ha = ha<<1 + g[pa[j+3]]
			hb1 = hb1<<1 + g[pb[j+3]]
			if ha&mask == 0 || hb1&mask == 0 {
				break
			}
			h, hb = ha, hb1
		}
		if j < lane {
			// Something hit in bytes j..j+3 of a lane (h and hb are the
			// fingerprints before byte j): the first lane's hit, from j
			// to its end, wins, else the second's.
			if k, _ := scan1(g, pa[j:], mask, h); k >= 0 {
				return i + j + k, 0
			}
			if k, _ := scan1(g, pb[j:], mask, hb); k >= 0 {
				return i + lane + j + k, 0
			}
			panic("chunk: scan lost a hit")
		}
		h = hb
	}
	k, h := scan1(g, data[i:], mask, h)
	if k >= 0 {
		return i + k, 0
	}
	return -1, h
}

// scan1 is scan with one chain.
func scan1(g *[256]uint64, data []byte, mask, h uint64) (int, uint64) {
	for i, c := range data {
		if h = h<<1 + g[c]; h&mask == 0 {
			return i, h
		}
	}
	return -1, h
}

// Split reads r to the end and calls fn with each chunk in order. The slice
// passed to fn is valid only during the call. An empty stream yields no
// chunks. (Import cuts its own buffers with Cut; Split is the simple form.)
func (s *Splitter) Split(r io.Reader, fn func(chunk []byte) error) error {
	buf := make([]byte, 2*MaxSize)
	start, end, eof := 0, 0, false
	for {
		for !eof && end-start < MaxSize {
			if end == len(buf) {
				end = copy(buf, buf[start:end])
				start = 0
			}
			m, err := io.ReadAtLeast(r, buf[end:], 1)
			end += m
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				eof = true
			} else if err != nil {
				return err
			}
		}
		if start == end {
			return nil
		}
		n := s.Cut(buf[start:end], eof)
		if err := fn(buf[start : start+n]); err != nil {
			return err
		}
		start += n
	}
}
