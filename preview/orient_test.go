package preview

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// upright is the scene: 64 × 32, red at top left, green at top right,
// blue at bottom left, white at bottom right. No turn or mirror of it
// looks like it, and turns by 90° swap its sides.
func upright() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 64, 32))
	for y := range 32 {
		for x := range 64 {
			c := [2][2]color.RGBA{
				{{220, 20, 20, 255}, {20, 200, 20, 255}},
				{{20, 20, 220, 255}, {240, 240, 240, 255}},
			}[y/16][x/32]
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// Independent turns and mirrors, to make the stored images a camera
// would write for each orientation.
func mapped(src *image.RGBA, w, h int, at func(x, y int) (int, int)) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			sx, sy := at(x, y)
			out.SetRGBA(x, y, src.RGBAAt(sx, sy))
		}
	}
	return out
}

func flipH(m *image.RGBA) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	return mapped(m, w, h, func(x, y int) (int, int) { return w - 1 - x, y })
}

func flipV(m *image.RGBA) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	return mapped(m, w, h, func(x, y int) (int, int) { return x, h - 1 - y })
}

// turnCW turns m a quarter clockwise: its left column becomes the top row.
func turnCW(m *image.RGBA) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	return mapped(m, h, w, func(x, y int) (int, int) { return y, h - 1 - x })
}

func turnCCW(m *image.RGBA) *image.RGBA { return turnCW(turnCW(turnCW(m))) }

// stored returns what a camera stores for the scene when it tags the file
// with orientation o: the image that o's correction turns back upright.
func stored(scene *image.RGBA, o int) *image.RGBA {
	switch o {
	case 2:
		return flipH(scene)
	case 3:
		return flipH(flipV(scene))
	case 4:
		return flipV(scene)
	case 5: // transpose: its own inverse
		return flipH(turnCW(scene))
	case 6: // shown turned clockwise, so stored turned counter-clockwise
		return turnCCW(scene)
	case 7: // transverse: its own inverse
		return flipH(turnCCW(scene))
	case 8:
		return turnCW(scene)
	}
	return scene
}

// tiffWithOrientation returns a TIFF structure whose first directory
// holds an Orientation tag of value o (and a tag before it).
func tiffWithOrientation(order binary.ByteOrder, o uint16) []byte {
	var b bytes.Buffer
	if order == binary.ByteOrder(binary.LittleEndian) {
		b.WriteString("II")
	} else {
		b.WriteString("MM")
	}
	binary.Write(&b, order, uint16(42))
	binary.Write(&b, order, uint32(8))
	binary.Write(&b, order, uint16(2))
	binary.Write(&b, order, []uint16{271, 2}) // Make, ASCII
	binary.Write(&b, order, uint32(4))
	b.WriteString("Cam\x00")
	binary.Write(&b, order, []uint16{274, 3}) // Orientation, SHORT
	binary.Write(&b, order, uint32(1))
	binary.Write(&b, order, []uint16{o, 0})
	binary.Write(&b, order, uint32(0)) // no next directory
	return b.Bytes()
}

// withAPP1 inserts an EXIF APP1 segment holding tiff after a JPEG's SOI.
func withAPP1(jpg, tiff []byte) []byte {
	seg := append([]byte("Exif\x00\x00"), tiff...)
	var b bytes.Buffer
	b.Write(jpg[:2])
	b.Write([]byte{0xff, 0xe1})
	binary.Write(&b, binary.BigEndian, uint16(len(seg)+2))
	b.Write(seg)
	b.Write(jpg[2:])
	return b.Bytes()
}

// withEXIf inserts an eXIf chunk holding tiff after a PNG's IHDR.
func withEXIf(p, tiff []byte) []byte {
	const ihdrEnd = 8 + 8 + 13 + 4
	var b bytes.Buffer
	b.Write(p[:ihdrEnd])
	binary.Write(&b, binary.BigEndian, uint32(len(tiff)))
	chunk := append([]byte("eXIf"), tiff...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	b.Write(p[ihdrEnd:])
	return b.Bytes()
}

// assertUpright checks the four quadrants of a preview of the scene.
func assertUpright(t *testing.T, name string, img *image.RGBA) {
	t.Helper()
	if img.Rect.Dx() != 64 || img.Rect.Dy() != 32 {
		t.Errorf("%s: %v, want 64 × 32", name, img.Rect)
		return
	}
	want := upright()
	for _, p := range []image.Point{{16, 8}, {48, 8}, {16, 24}, {48, 24}} {
		g, w := img.RGBAAt(p.X, p.Y), want.RGBAAt(p.X, p.Y)
		if d := max(absInt(int(g.R)-int(w.R)), absInt(int(g.G)-int(w.G)), absInt(int(g.B)-int(w.B))); d > 40 {
			t.Errorf("%s: at %v %v, want %v", name, p, g, w)
		}
	}
}

func absInt(a int) int {
	if a < 0 {
		return -a
	}
	return a
}

func render(t *testing.T, data []byte, name string) *image.RGBA {
	t.Helper()
	d, err := Open(context.Background(), data, "", name, Options{})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	defer d.Close()
	img, err := d.Render(context.Background(), 0, 96)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return img
}

// TestEXIFOrientation: a JPEG stored in each of the eight ways a camera
// may store it, tagged accordingly, previews upright, with the tag in a
// little- or big-endian TIFF structure; so does a tagged PNG.
func TestEXIFOrientation(t *testing.T) {
	scene := upright()
	for o := 1; o <= 8; o++ {
		var jb bytes.Buffer
		if err := jpeg.Encode(&jb, stored(scene, o), &jpeg.Options{Quality: 95}); err != nil {
			t.Fatal(err)
		}
		var order binary.ByteOrder = binary.LittleEndian
		if o%2 == 0 {
			order = binary.BigEndian
		}
		data := withAPP1(jb.Bytes(), tiffWithOrientation(order, uint16(o)))
		assertUpright(t, fmt.Sprintf("JPEG, orientation %d", o), render(t, data, "photo.jpg"))

		var pb bytes.Buffer
		if err := png.Encode(&pb, stored(scene, o)); err != nil {
			t.Fatal(err)
		}
		assertUpright(t, fmt.Sprintf("PNG, orientation %d", o), render(t, withEXIf(pb.Bytes(), tiffWithOrientation(order, uint16(o))), "x.png"))
	}
	// Control: the sideways file without its tag previews as stored.
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, stored(scene, 6), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	if img := render(t, jb.Bytes(), "untagged.jpg"); img.Rect.Dx() != 32 || img.Rect.Dy() != 64 {
		t.Errorf("untagged sideways JPEG: %v, want it as stored, 32 × 64", img.Rect)
	}
}

// TestOrientationCarriers reads the tag from each carrier, and refuses
// malformed tags by reading none.
func TestOrientationCarriers(t *testing.T) {
	le := tiffWithOrientation(binary.LittleEndian, 6)
	riff := func(chunks ...[]byte) []byte {
		body := append([]byte("WEBP"), bytes.Join(chunks, nil)...)
		return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
	}
	chunk := func(fourcc string, payload []byte) []byte {
		c := append([]byte(fourcc), binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))...)
		c = append(c, payload...)
		if len(payload)%2 == 1 {
			c = append(c, 0)
		}
		return c
	}
	badType := tiffWithOrientation(binary.LittleEndian, 6)
	badType[8+2+12+2] = 4 // Orientation as LONG
	for _, c := range []struct {
		name, format string
		data         []byte
		want         int
	}{
		{"TIFF", "TIFF", le, 6},
		{"TIFF big-endian", "TIFF", tiffWithOrientation(binary.BigEndian, 8), 8},
		{"WebP", "WebP", riff(chunk("VP8X", make([]byte, 10)), chunk("EXIF", le)), 6},
		{"WebP with Exif header", "WebP", riff(chunk("VP8X", make([]byte, 9)), chunk("EXIF", append([]byte("Exif\x00\x00"), le...))), 6},
		{"value 9", "TIFF", tiffWithOrientation(binary.LittleEndian, 9), 1},
		{"value 0", "TIFF", tiffWithOrientation(binary.LittleEndian, 0), 1},
		{"wrong type", "TIFF", badType, 1},
		{"directory past the end", "TIFF", []byte("II*\x00\xff\xff\xff\x7f"), 1},
		{"entries past the end", "TIFF", le[:20], 1},
		{"GIF", "GIF", le, 1},
		{"JPEG segment longer than the file", "JPEG", []byte("\xff\xd8\xff\xe1\xff\xffExif\x00\x00II*\x00"), 1},
		{"PNG chunk longer than the file", "PNG", []byte("\x89PNG\r\n\x1a\n\xff\xff\xff\xf0eXIf"), 1},
	} {
		if got := exifOrientation(c.format, c.data); got != c.want {
			t.Errorf("%s: orientation %d, want %d", c.name, got, c.want)
		}
	}
}

// FuzzEXIFOrientation: any bytes in any carrier give an orientation from
// 1 to 8 without panicking, and turning an image by it keeps its pixels.
func FuzzEXIFOrientation(f *testing.F) {
	formats := []string{"JPEG", "TIFF", "PNG", "WebP"}
	img := upright()
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		o := exifOrientation(formats[int(kind)%len(formats)], data)
		if o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		if got := orient(img, o); got.Rect.Dx()*got.Rect.Dy() != 64*32 {
			t.Fatalf("orientation %d made %v", o, got.Rect)
		}
	})
}
