package chunk

import (
	"errors"
	"io"
)

// Buffer is a block of memory CutStream reads a stream into.
type Buffer interface {
	Bytes() []byte
}

// CutStream reads r to the end in large blocks and cuts chunks in place in
// them, so a chunk's bytes are copied once, by the read. It gets blocks
// from get (each at least 2×MaxSize bytes; larger blocks mean fewer, larger
// reads), calls emit with each chunk in order and the block it lies in, and
// calls done with a block once it neither reads into nor cuts in it any
// more: the chunks emitted from it are then the caller's to release. A
// chunk still unfinished at the end of a block is copied to the start of
// the next (about half a chunk per block on average). done is called for
// every block get returned, also when CutStream fails.
func CutStream[B Buffer](s *Splitter, r io.Reader, get func() (B, error), done func(B), emit func(chunk []byte, b B) error) error {
	var (
		cur        B
		have       bool
		start, end int
		eof        bool
	)
	defer func() {
		if have {
			done(cur)
		}
	}()
	for {
		if have && start < end {
			buf := cur.Bytes()
			if n := s.Cut(buf[start:end], eof); n > 0 {
				if err := emit(buf[start:start+n:start+n], cur); err != nil {
					return err
				}
				start += n
				continue
			}
		}
		if eof {
			return nil
		}
		// What is left of the block is an unfinished chunk (or nothing):
		// move it to a fresh block and fill that.
		next, err := get()
		if err != nil {
			return err
		}
		buf := next.Bytes()
		if len(buf) < 2*MaxSize {
			done(next)
			return errors.New("chunk: stream block smaller than 2×MaxSize")
		}
		n := 0
		if have {
			n = copy(buf, cur.Bytes()[start:end])
			done(cur)
		}
		cur, have, start, end = next, true, 0, n
		for end < len(buf) && !eof {
			m, err := r.Read(buf[end:])
			end += m
			if err == io.EOF {
				eof = true
			} else if err != nil {
				return err
			}
		}
	}
}
