package preview

import (
	"bytes"
	"encoding/binary"
	"image"
)

// An image's EXIF Orientation (TIFF tag 274) says how its stored pixels
// are turned from the scene: a phone held upright stores its photo
// sideways and tags it 6. Go's decoders ignore the tag, so a preview
// applies it.
//
// The tag is read here rather than with an EXIF library: it is one 16-bit
// value in the first directory of the TIFF structure every carrier (JPEG
// APP1, PNG eXIf, WebP EXIF, TIFF itself) holds, and the readers at hand
// were no fit for hostile files (github.com/rwcarlsen/goexif, unchanged
// since 2019, follows a two-directory cycle forever, growing as it goes;
// github.com/dsoprea/go-exif/v3 brings six modules to parse every tag).
// This one reads only that directory, touches no byte outside data, and
// allocates nothing.

// Orientation values, as EXIF numbers them: where the stored image's first
// row and first column belong on screen.
const (
	orientUpright    = 1 // top, left
	orientMirrored   = 2 // top, right
	orientRotate180  = 3 // bottom, right
	orientFlipped    = 4 // bottom, left
	orientTranspose  = 5 // left, top
	orientRotate90   = 6 // right, top: turn 90° clockwise to show
	orientTransverse = 7 // right, bottom
	orientRotate270  = 8 // left, bottom: turn 90° counter-clockwise
)

// exifOrientation returns the EXIF Orientation of an image file in the
// format codec names (1 to 8), or 1 when the file carries none or a
// malformed one.
func exifOrientation(format string, data []byte) int {
	switch format {
	case "JPEG":
		return tiffOrientation(jpegEXIF(data))
	case "TIFF":
		return tiffOrientation(data)
	case "PNG":
		return tiffOrientation(pngEXIF(data))
	case "WebP":
		return tiffOrientation(webpEXIF(data))
	}
	return orientUpright
}

var exifHeader = []byte("Exif\x00\x00")

// jpegEXIF returns the TIFF structure of a JPEG's first EXIF APP1
// segment, or nil. It walks the segments before the image data (start of
// scan), each step at least four bytes on.
func jpegEXIF(data []byte) []byte {
	i := 2 // after SOI
	for i+4 <= len(data) {
		if data[i] != 0xff {
			return nil
		}
		marker := data[i+1]
		switch {
		case marker == 0xff: // fill byte
			i++
			continue
		case marker == 0xd9 || marker == 0xda: // end of image, start of scan
			return nil
		case marker == 0x01 || marker >= 0xd0 && marker <= 0xd8: // no length
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return nil
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xe1 && bytes.HasPrefix(seg, exifHeader) {
			return seg[len(exifHeader):]
		}
		i += 2 + n
	}
	return nil
}

// pngEXIF returns the contents of a PNG's eXIf chunk, or nil.
func pngEXIF(data []byte) []byte {
	i := 8 // after the signature
	for i+12 <= len(data) {
		n := binary.BigEndian.Uint32(data[i:])
		if uint64(n) > uint64(len(data)-i-12) {
			return nil
		}
		typ, body := string(data[i+4:i+8]), data[i+8:i+8+int(n)]
		switch typ {
		case "eXIf":
			return body
		case "IEND":
			return nil
		}
		i += 12 + int(n)
	}
	return nil
}

// webpEXIF returns the contents of a WebP's EXIF chunk, or nil. Some
// writers start it with the JPEG "Exif\0\0" header, which is dropped.
func webpEXIF(data []byte) []byte {
	i := 12 // after "RIFF", the size and "WEBP"
	for i+8 <= len(data) {
		n := binary.LittleEndian.Uint32(data[i+4:])
		if uint64(n) > uint64(len(data)-i-8) {
			return nil
		}
		if string(data[i:i+4]) == "EXIF" {
			return bytes.TrimPrefix(data[i+8:i+8+int(n)], exifHeader)
		}
		i += 8 + int(n) + int(n&1) // chunks are padded to even sizes
	}
	return nil
}

// tiffOrientation returns the Orientation tag of the first image file
// directory of a TIFF structure, or 1. It reads the directory's entries
// only as far as data holds them, and follows no offset but the one to
// that directory.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return orientUpright
	}
	var order binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return orientUpright
	}
	if order.Uint16(t[2:]) != 42 {
		return orientUpright
	}
	ifd := order.Uint32(t[4:])
	if uint64(ifd)+2 > uint64(len(t)) {
		return orientUpright
	}
	entries := int(order.Uint16(t[ifd:]))
	for k := range entries {
		e := int(ifd) + 2 + 12*k
		if e+12 > len(t) {
			break
		}
		const tagOrientation, typeShort = 274, 3
		if order.Uint16(t[e:]) != tagOrientation {
			continue
		}
		if order.Uint16(t[e+2:]) != typeShort || order.Uint32(t[e+4:]) < 1 {
			return orientUpright
		}
		if v := int(order.Uint16(t[e+8:])); v >= orientUpright && v <= orientRotate270 {
			return v
		}
		return orientUpright
	}
	return orientUpright
}

// orient returns img turned and mirrored as orientation o asks, so that
// it shows upright: for 5 to 8 the result is img's height wide and its
// width high. It returns img itself for 1 or an unknown value.
func orient(img *image.RGBA, o int) *image.RGBA {
	if o <= orientUpright || o > orientRotate270 {
		return img
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	dw, dh := w, h
	if o >= orientTranspose {
		dw, dh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for dy := range dh {
		for dx := range dw {
			// The stored pixel (sx, sy) shown at (dx, dy).
			var sx, sy int
			switch o {
			case orientMirrored:
				sx, sy = w-1-dx, dy
			case orientRotate180:
				sx, sy = w-1-dx, h-1-dy
			case orientFlipped:
				sx, sy = dx, h-1-dy
			case orientTranspose:
				sx, sy = dy, dx
			case orientRotate90:
				sx, sy = dy, h-1-dx
			case orientTransverse:
				sx, sy = w-1-dy, h-1-dx
			case orientRotate270:
				sx, sy = w-1-dy, dx
			}
			s := img.PixOffset(img.Rect.Min.X+sx, img.Rect.Min.Y+sy)
			d := out.PixOffset(dx, dy)
			copy(out.Pix[d:d+4], img.Pix[s:s+4])
		}
	}
	return out
}
