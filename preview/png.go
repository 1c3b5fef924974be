package preview

import (
	"bufio"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/png"
	"io"
)

// EncodePNG writes img as a PNG file, quickly: a page is written once,
// by `coffer preview`, and its encoding was a tenth of the command's time.
//
// An opaque image — every rendered page is one — is written as 8-bit RGB
// with no row filter, deflated at zlib's best speed. On watermarked pages
// that is both faster and smaller than image/png's default, which tries
// all five filters on every row and deflates at level 6: the filters
// turn the anti-aliased edges of the tiled watermark into noise that
// deflate cannot match, while unfiltered rows keep the long runs of white
// it compresses best. For page 1 of octave.pdf at 150 dpi: image/png 90 ms
// and 791 KB, this 23 ms and 650 KB. An image with any transparency goes
// to image/png (at best speed), which handles alpha.
func EncodePNG(w io.Writer, img *image.RGBA) error {
	b := img.Rect
	if b.Empty() {
		return errors.New("preview: png: empty image")
	}
	if !opaque(img) {
		return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, img)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("\x89PNG\r\n\x1a\n"); err != nil {
		return err
	}
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:4], uint32(b.Dx()))
	binary.BigEndian.PutUint32(ihdr[4:8], uint32(b.Dy()))
	ihdr[8], ihdr[9] = 8, 2 // 8 bits per sample, truecolour (RGB)
	if err := writeChunk(bw, "IHDR", ihdr[:]); err != nil {
		return err
	}
	idat := &chunkWriter{w: bw, buf: make([]byte, 0, idatSize)}
	zw, err := zlib.NewWriterLevel(idat, zlib.BestSpeed)
	if err != nil {
		return err
	}
	w3 := b.Dx() * 3
	row := make([]byte, 1+w3) // filter type 0 (none), then RGB
	for y := b.Min.Y; y < b.Max.Y; y++ {
		src := img.Pix[img.PixOffset(b.Min.X, y):][:b.Dx()*4]
		dst := row[1:]
		for i, j := 0, 0; j < w3; i, j = i+4, j+3 {
			dst[j], dst[j+1], dst[j+2] = src[i], src[i+1], src[i+2]
		}
		if _, err := zw.Write(row); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := idat.flush(); err != nil {
		return err
	}
	if err := writeChunk(bw, "IEND", nil); err != nil {
		return err
	}
	return bw.Flush()
}

// idatSize is the largest IDAT chunk written: the compressed stream is cut
// into chunks of this size as it comes, so nothing holds all of it.
const idatSize = 256 << 10

// opaque reports whether every pixel of img has alpha 255.
func opaque(img *image.RGBA) bool {
	b := img.Rect
	for y := b.Min.Y; y < b.Max.Y; y++ {
		row := img.Pix[img.PixOffset(b.Min.X, y):][:b.Dx()*4]
		for i := 3; i < len(row); i += 4 {
			if row[i] != 0xff {
				return false
			}
		}
	}
	return true
}

// chunkWriter cuts what is written to it into IDAT chunks.
type chunkWriter struct {
	w   io.Writer
	buf []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), cap(c.buf)-len(c.buf))
		c.buf = append(c.buf, p[:k]...)
		p = p[k:]
		if len(c.buf) == cap(c.buf) {
			if err := c.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (c *chunkWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	err := writeChunk(c.w, "IDAT", c.buf)
	c.buf = c.buf[:0]
	return err
}

// writeChunk writes one PNG chunk: length, type, data, CRC of type and data.
func writeChunk(w io.Writer, typ string, data []byte) error {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	crc.Write(data)
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc.Sum32())
	for _, p := range [][]byte{hdr[:], data, sum[:]} {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}
