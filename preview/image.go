package preview

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// codec is one image format, picked by its magic bytes (not by the name,
// which an attacker chooses).
type codec struct {
	name   string
	magic  func([]byte) bool
	config func([]byte) (image.Config, error)
	decode func([]byte) (image.Image, error)
}

func reader(f func(r *bytes.Reader) (image.Image, error)) func([]byte) (image.Image, error) {
	return func(b []byte) (image.Image, error) { return f(bytes.NewReader(b)) }
}

func configReader(f func(r *bytes.Reader) (image.Config, error)) func([]byte) (image.Config, error) {
	return func(b []byte) (image.Config, error) { return f(bytes.NewReader(b)) }
}

func codecs() []codec {
	return []codec{
		{"PNG", prefix("\x89PNG\r\n\x1a\n"), configReader(func(r *bytes.Reader) (image.Config, error) { return png.DecodeConfig(r) }),
			reader(func(r *bytes.Reader) (image.Image, error) { return png.Decode(r) })},
		{"JPEG", prefix("\xff\xd8\xff"), configReader(func(r *bytes.Reader) (image.Config, error) { return jpeg.DecodeConfig(r) }),
			reader(func(r *bytes.Reader) (image.Image, error) { return jpeg.Decode(r) })},
		{"GIF", prefix("GIF8"), configReader(func(r *bytes.Reader) (image.Config, error) { return gif.DecodeConfig(r) }),
			reader(func(r *bytes.Reader) (image.Image, error) { return gif.Decode(r) })},
		{"WebP", func(b []byte) bool { return len(b) > 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP" },
			configReader(func(r *bytes.Reader) (image.Config, error) { return webp.DecodeConfig(r) }),
			reader(func(r *bytes.Reader) (image.Image, error) { return webp.Decode(r) })},
		{"TIFF", func(b []byte) bool { return prefix("II*\x00")(b) || prefix("MM\x00*")(b) },
			configReader(func(r *bytes.Reader) (image.Config, error) { return tiff.DecodeConfig(r) }),
			reader(func(r *bytes.Reader) (image.Image, error) { return tiff.Decode(r) })},
		{"BMP", prefix("BM"), configReader(func(r *bytes.Reader) (image.Config, error) { return bmp.DecodeConfig(r) }),
			reader(func(r *bytes.Reader) (image.Image, error) { return bmp.Decode(r) })},
	}
}

func prefix(p string) func([]byte) bool {
	return func(b []byte) bool { return bytes.HasPrefix(b, []byte(p)) }
}

// imageDoc is a one-page document: a decoded image.
type imageDoc struct {
	img *image.RGBA
}

// openImage checks the declared size before decoding anything, so a small
// file claiming 100k × 100k pixels is refused without allocating them, and
// turns the image upright as its EXIF Orientation says (orient.go).
func openImage(data []byte, maxPixels int) (Document, error) {
	for _, c := range codecs() {
		if !c.magic(data) {
			continue
		}
		cfg, err := c.config(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, c.name, err)
		}
		if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
			return nil, fmt.Errorf("%w: %s of %d × %d pixels (limit %d pixels)", ErrTooLarge, c.name, cfg.Width, cfg.Height, maxPixels)
		}
		img, err := c.decode(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, c.name, err)
		}
		rgba := image.NewRGBA(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
		checkerboard(rgba)
		draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Over)
		return &imageDoc{img: orient(rgba, exifOrientation(c.name, data))}, nil
	}
	return nil, fmt.Errorf("%w: not an image format Coffer reads (PNG, JPEG, GIF, WebP, TIFF, BMP)", ErrCorrupt)
}

// checkerboard fills img with the light grey squares that show where an
// image is transparent (a white logo on white would be invisible).
func checkerboard(img *image.RGBA) {
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			v := uint8(255)
			if (x/8+y/8)%2 == 1 {
				v = 204
			}
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = v, v, v, 255
		}
	}
}

func (d *imageDoc) Pages() int { return 1 }

// Render returns a copy of the image at its own resolution (an image has
// no physical size to scale by dpi), so the caller may draw on it.
func (d *imageDoc) Render(ctx context.Context, page int, dpi float64) (*image.RGBA, error) {
	if page != 0 {
		return nil, fmt.Errorf("%w: page %d of 1", ErrPage, page+1)
	}
	out := image.NewRGBA(d.img.Bounds())
	copy(out.Pix, d.img.Pix)
	return out, nil
}

func (d *imageDoc) Close() error { return nil }
