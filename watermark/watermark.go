// Package watermark draws a viewer's identity into the pixels of a page:
// name, e-mail, device, UTC time and the view's trace code, tiled over the
// whole page, rotated and semi-transparent, so that a photo or screenshot of
// any part of the page names who saw it. Each pixel of the text takes the
// tone that stands out from the page under it — dark on a light page, light
// on a dark one — and, where the page is near mid-grey and neither tone
// differs much from it, more opacity, so the mark stands out about as much
// from a black slide, a grey chart or a dark photo as from white paper. It
// works on images only; what a page is, is package preview's business.
package watermark

import (
	"cmp"
	"errors"
	"fmt"
	"image"
	"image/color"
	"iter"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-text/render"
	"golang.org/x/image/math/fixed"

	"github.com/coffer-vault/coffer/internal/textshape"
)

// Spec is what a watermark says and how it looks.
type Spec struct {
	Name      string
	Email     string
	Device    string
	Time      time.Time
	TraceCode string

	// Opacity of the text, 0..1 (0 means the default, 0.22).
	Opacity float64
	// Angle of the text in degrees, counter-clockwise (0 means 30).
	Angle float64
	// Color of the text on light pages (zero means a dark red). On dark
	// parts of a page the text takes a tone of the same hue on the other
	// side of mid-grey (Spec.Tones).
	Color color.RGBA
	// TextHeight is the height of one line in pixels (0 means 1/40 of the
	// page's shorter side, at least MinTextHeight).
	TextHeight float64
	// MinTextHeight is the least height of the default TextHeight (0 means
	// 12): a viewer showing the page shrunk asks for more.
	MinTextHeight float64
}

// Lines returns the watermark's text, one line each.
func (s Spec) Lines() []string {
	fields := s.Fields()
	lines := make([]string, len(fields))
	for i, f := range fields {
		lines[i] = strings.Join(f, "")
	}
	return lines
}

// Fields returns the watermark's text, one line each, cut into fields:
// the values (name, e-mail, device, time, trace code) and the text between
// them. Each field is laid out on its own (textshape.ShapeFields), so a
// name written right to left keeps its place before the address.
//
// A value longer than its limit (MaxName, MaxEmail, MaxDevice characters)
// is cut there and ends in "…": a name the user chose must not crowd the
// address, time and trace code out of the mark, nor make it too large to
// draw.
func (s Spec) Fields() [][]string {
	name := clip(s.Name, MaxName)
	who := []string{name}
	if s.Email != "" {
		who = []string{name, " <", clip(s.Email, MaxEmail), ">"}
	}
	return [][]string{
		who,
		{clip(s.Device, MaxDevice), " · ", s.Time.UTC().Format("2006-01-02 15:04") + " UTC"},
		{"trace ", s.TraceCode},
	}
}

// The longest values a mark shows whole, in characters (runes).
const (
	MaxName   = 64
	MaxEmail  = 96
	MaxDevice = 48
)

// clip cuts s to at most n runes, the last of them "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for k := range s {
		if i == n-1 {
			return s[:k] + "…"
		}
		i++
	}
	return s
}

func (s Spec) withDefaults(bounds image.Rectangle) Spec {
	if s.Opacity <= 0 || s.Opacity > 1 {
		s.Opacity = 0.22
	}
	if s.Angle == 0 {
		s.Angle = 30
	}
	if s.Color == (color.RGBA{}) {
		s.Color = color.RGBA{R: 150, G: 20, B: 30, A: 255}
	}
	if s.TextHeight <= 0 {
		short := min(bounds.Dx(), bounds.Dy())
		s.TextHeight = max(cmp.Or(s.MinTextHeight, 12), float64(short)/40)
	}
	return s
}

// Tones returns the two tones the text is drawn in — Color, and the same
// hue three quarters of the way to white (or, for a light Color, to
// black) — and the luminance (0..255, BT.709 weights) below which a page
// pixel takes the lighter one: halfway between theirs, so each pixel gets
// the tone farther from it.
func (s Spec) Tones() (onLight, onDark color.RGBA, threshold int) {
	c := s.Color
	toward := func(v, end uint8) uint8 { return uint8((int(v) + 3*int(end)) / 4) }
	if luma(c.R, c.G, c.B) < 128 {
		other := color.RGBA{R: toward(c.R, 255), G: toward(c.G, 255), B: toward(c.B, 255), A: 255}
		return c, other, (luma(c.R, c.G, c.B) + luma(other.R, other.G, other.B)) / 2
	}
	other := color.RGBA{R: toward(c.R, 0), G: toward(c.G, 0), B: toward(c.B, 0), A: 255}
	return other, c, (luma(c.R, c.G, c.B) + luma(other.R, other.G, other.B)) / 2
}

// luma is a pixel's luminance, 0..255, with BT.709's weights in 1/256ths.
func luma(r, g, b uint8) int { return (54*int(r) + 183*int(g) + 19*int(b)) >> 8 }

// Stamper draws watermarks. It is safe for concurrent use. It keeps the
// last sprite it made, so the pages of one view (one spec) are stamped
// without drawing the text again.
type Stamper struct {
	// first has the first font only; all has the fallbacks too, parsed
	// when a watermark has a letter the first font lacks.
	first *textshape.Shaper
	all   func() (*textshape.Shaper, error)

	mu   sync.Mutex
	key  string
	last *sprite
}

// NewStamper parses TrueType or OpenType fonts: each letter of a
// watermark is drawn in the first that has it, so ttf sets the look and
// fallbacks add scripts (assets.UnicodeFont). Text is shaped (Arabic
// joins) and laid out in bidi order; a letter none of the fonts has makes
// Stamp fail with ErrNoGlyph rather than draw a box.
//
// Only ttf is parsed here. The fallbacks, megabytes of CJK outlines that
// took 33 ms to parse, a third of `coffer preview`'s time after its
// render, are parsed by the first Stamp whose text ttf cannot draw alone
// (and an error in them is that Stamp's). A line ttf draws alone is laid
// out as with the fallbacks: each letter takes the first font that has it.
// The slices are kept, not copied: do not modify them.
func NewStamper(ttf []byte, fallbacks ...[]byte) (*Stamper, error) {
	first, err := textshape.New(ttf)
	if err != nil {
		return nil, fmt.Errorf("watermark: font: %w", err)
	}
	st := &Stamper{first: first}
	st.all = func() (*textshape.Shaper, error) { return first, nil }
	if len(fallbacks) > 0 {
		fonts := append([][]byte{ttf}, fallbacks...)
		st.all = sync.OnceValues(func() (*textshape.Shaper, error) {
			sh, err := textshape.New(fonts...)
			if err != nil {
				return nil, fmt.Errorf("watermark: font: %w", err)
			}
			return sh, nil
		})
	}
	return st, nil
}

// shape lays out one line of fields in the first font, or with the
// fallbacks when it lacks a letter.
func (st *Stamper) shape(size fixed.Int26_6, fields []string) (textshape.Line, error) {
	line, err := st.first.ShapeFields(size, fields...)
	if !errors.Is(err, textshape.ErrNoGlyph) {
		return line, err
	}
	all, err := st.all()
	if err != nil {
		return nil, err
	}
	return all.ShapeFields(size, fields...)
}

// ErrNoGlyph is wrapped when a watermark's text has a letter none of the
// Stamper's fonts can draw.
var ErrNoGlyph = textshape.ErrNoGlyph

// ErrEmpty is returned for a spec without a trace code or identity: a
// watermark that names nobody protects nothing.
var ErrEmpty = errors.New("watermark: spec names no viewer or trace code")

// Check lays out s's text as Stamp would, without drawing it: it fails
// with an error wrapping ErrNoGlyph for a letter none of the fonts has.
// A name can be checked this way when it is chosen, not at every view.
func (st *Stamper) Check(s Spec) error {
	s = s.withDefaults(image.Rect(0, 0, 1000, 1000))
	size := fixed.Int26_6(math.Round(s.TextHeight * 64))
	for _, l := range s.Fields() {
		if _, err := st.shape(size, l); err != nil {
			return fmt.Errorf("watermark: %w", err)
		}
	}
	return nil
}

// Stamp draws the watermark over all of img, in place.
func (st *Stamper) Stamp(img *image.RGBA, s Spec) error {
	if s.TraceCode == "" || (s.Name == "" && s.Email == "") {
		return ErrEmpty
	}
	b := img.Bounds()
	if b.Empty() {
		return nil
	}
	s = s.withDefaults(b)
	sp, err := st.sprite(s)
	if err != nil {
		return err
	}
	page := localLuma(img, max(1, int(s.TextHeight/3)/lumaCell))
	for p := range sp.places(b, s.Angle) {
		sp.draw(img, page, p.X, p.Y)
	}
	return nil
}

// localLuma returns the page's luminance (0..255) around each pixel:
// averaged over cells of lumaCell × lumaCell pixels, row by row, then over
// a square of side 2r+1 cells — the page a letter of the mark lies on,
// rather than the pixel. A tone chosen pixel by pixel flipped on noise, a
// grainy photo or stripes of the mark's own colour, and the letters
// dissolved into it; chosen from the neighbourhood, a letter takes one
// tone where the page is busy and still changes tone where the page turns
// from light to dark. draw reads it with lumaAt.
func localLuma(img *image.RGBA, r int) localMap {
	b := img.Rect
	m := localMap{w: (b.Dx() + lumaCell - 1) / lumaCell, h: (b.Dy() + lumaCell - 1) / lumaCell, min: b.Min}
	sums := make([]int, m.w*m.h)
	counts := make([]int, m.w*m.h)
	// Every pixel: sampling fewer aliases with a fine pattern (a
	// checkerboard sampled at even pixels is one colour).
	for y := range b.Dy() {
		row := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):][:b.Dx()*4]
		cy := (y / lumaCell) * m.w
		for x := 0; x < b.Dx(); x++ {
			i := cy + x/lumaCell
			sums[i] += luma(row[x*4], row[x*4+1], row[x*4+2])
			counts[i]++
		}
	}
	l := make([]uint8, m.w*m.h)
	for i := range l {
		l[i] = uint8(sums[i] / counts[i])
	}
	tmp := make([]uint8, len(l))
	boxBlur(tmp, l, m.h, m.w, m.w, 1, r) // along rows
	boxBlur(l, tmp, m.w, m.h, 1, m.w, r) // along columns
	m.l = l
	return m
}

// lumaCell is the side, in pixels, of the cells localLuma averages first.
const lumaCell = 4

// localMap is localLuma's answer.
type localMap struct {
	l    []uint8
	w, h int
	min  image.Point
}

// at returns the luminance around page pixel (x, y).
func (m localMap) at(x, y int) uint8 {
	return m.l[((y-m.min.Y)/lumaCell)*m.w+(x-m.min.X)/lumaCell]
}

// boxBlur averages src into dst along lines of n values, step apart, the
// lines' starts stride apart (count of them: lines), over windows of
// 2r+1 values clipped at the ends.
func boxBlur(dst, src []uint8, lines, n, stride, step, r int) {
	for line := range lines {
		base := line * stride
		sum, count := 0, 0
		for i := 0; i < min(r, n); i++ {
			sum += int(src[base+i*step])
			count++
		}
		for i := range n {
			if j := i + r; j < n {
				sum += int(src[base+j*step])
				count++
			}
			if j := i - r - 1; j >= 0 {
				sum -= int(src[base+j*step])
				count--
			}
			dst[base+i*step] = uint8(sum / count)
		}
	}
}

// places yields the top-left corners of the blocks that cover a page of
// bounds b with the text at angle degrees. Blocks sit on a staggered grid
// in the rotated frame (u along the text, v across it), each block's
// centre mapped onto the page: blocks never overlap, and no stretch of the
// page is left bare. Of each row only the blocks whose box meets the page
// are yielded: on a page far longer one way than the other, visiting the
// whole square around its diagonal cost the square of its length.
func (sp *sprite) places(b image.Rectangle, angle float64) iter.Seq[image.Point] {
	return func(yield func(image.Point) bool) {
		rad := angle * math.Pi / 180
		sin, cos := math.Sin(rad), math.Cos(rad)
		du, dv := float64(sp.flatW)*1.05, float64(sp.flatH)
		cx, cy := float64(b.Min.X+b.Max.X)/2, float64(b.Min.Y+b.Max.Y)/2
		reach := math.Hypot(float64(b.Dx()), float64(b.Dy()))/2 + du
		hw, hh := float64(sp.w)/2+1, float64(sp.h)/2+1
		for j := -int(reach/dv) - 1; j <= int(reach/dv)+1; j++ {
			shift := float64(j&1) * du / 2
			v := float64(j) * dv
			// x = cx + v sin + u cos and y = cy + v cos − u sin, each
			// within the page widened by half a block.
			lo, hi := within(math.Inf(-1), math.Inf(1), cos, cx+v*sin, float64(b.Min.X)-hw, float64(b.Max.X)+hw)
			lo, hi = within(lo, hi, -sin, cy+v*cos, float64(b.Min.Y)-hh, float64(b.Max.Y)+hh)
			if lo > hi {
				continue
			}
			for i := int(math.Floor((lo - shift) / du)); i <= int(math.Ceil((hi-shift)/du)); i++ {
				u := float64(i)*du + shift
				x := cx + u*cos + v*sin
				y := cy - u*sin + v*cos
				if !yield(image.Pt(int(x)-sp.w/2, int(y)-sp.h/2)) {
					return
				}
			}
		}
	}
}

// within narrows [lo, hi] to the u for which c + k·u lies in [a, b].
func within(lo, hi, k, c, a, b float64) (float64, float64) {
	if math.Abs(k) < 1e-9 {
		if c < a || c > b {
			return 1, 0
		}
		return lo, hi
	}
	u1, u2 := (a-c)/k, (b-c)/k
	return max(lo, min(u1, u2)), min(hi, max(u1, u2))
}

// sprite is a rotated, faded text block kept as runs of visible pixels:
// most of a rotated block is transparent, and skipping it makes stamping a
// page several times faster than compositing whole rectangles. A pixel is
// its coverage times the opacity; its tone is chosen from the page under it
// when it is drawn.
type sprite struct {
	w, h         int
	flatW, flatH int
	runs         []run
	// By the luminance of the page pixel under it (0..255): the tone a
	// pixel takes, and the gain on its opacity, in 1/256ths.
	tone [256]color.RGBA
	gain [256]uint16
}

// maxGain bounds how much more opaque the mark gets on mid-grey pages
// than on white: at most 2.5 times (0.55 for the default 0.22), so it
// stays see-through.
const maxGain = 2.5

// shade fills the sprite's tone and gain tables for spec s: on a page
// pixel of luminance l the text takes the tone farther from l (Tones), and
// its opacity is multiplied by how much less that tone differs from l
// than the light-page tone differs from white (at least 1, at most
// maxGain): the mark differs from any page about as much as from white.
func (sp *sprite) shade(s Spec) {
	onLight, onDark, threshold := s.Tones()
	ref := float64(255 - luma(onLight.R, onLight.G, onLight.B))
	for l := range 256 {
		tone := onLight
		if l < threshold {
			tone = onDark
		}
		d := math.Abs(float64(luma(tone.R, tone.G, tone.B) - l))
		g := maxGain
		if d > 0 {
			g = min(maxGain, max(1, ref/d))
		}
		sp.tone[l], sp.gain[l] = tone, uint16(math.Round(g*256))
	}
}

type run struct {
	y, x0 int
	alpha []uint8 // opacity of x0.. in row y, 0..255
}

func (st *Stamper) sprite(s Spec) (*sprite, error) {
	key := fmt.Sprintf("%q %v %v %v %v", s.Lines(), s.Opacity, s.Angle, s.Color, s.TextHeight)
	st.mu.Lock()
	if st.key == key {
		sp := st.last
		st.mu.Unlock()
		return sp, nil
	}
	st.mu.Unlock()
	sp, err := st.makeSprite(s)
	if err != nil {
		return nil, err
	}
	st.mu.Lock()
	st.key, st.last = key, sp
	st.mu.Unlock()
	return sp, nil
}

func (st *Stamper) makeSprite(s Spec) (*sprite, error) {
	flat, err := st.block(s)
	if err != nil {
		return nil, err
	}
	tile := rotate(flat, s.Angle)
	fade(tile, s.Opacity)
	sp := &sprite{w: tile.Rect.Dx(), h: tile.Rect.Dy(), flatW: flat.Rect.Dx(), flatH: flat.Rect.Dy()}
	sp.shade(s)
	for y := range sp.h {
		row := tile.Pix[y*tile.Stride : y*tile.Stride+sp.w*4]
		for x := 0; x < sp.w; {
			if row[x*4+3] == 0 {
				x++
				continue
			}
			x0 := x
			alpha := make([]uint8, 0, 16)
			for x < sp.w && row[x*4+3] != 0 {
				alpha = append(alpha, row[x*4+3])
				x++
			}
			sp.runs = append(sp.runs, run{y: y, x0: x0, alpha: alpha})
		}
	}
	return sp, nil
}

// draw composites the sprite over img with its top-left corner at (ox, oy),
// clipped to img: dst = tone × a + dst × (1 − a), premultiplied, where
// tone and a (the sprite pixel's opacity times a gain) depend on the
// page's luminance around the pixel (page, from localLuma; shade).
func (sp *sprite) draw(img *image.RGBA, page localMap, ox, oy int) {
	b := img.Rect
	if ox >= b.Max.X || oy >= b.Max.Y || ox+sp.w <= b.Min.X || oy+sp.h <= b.Min.Y {
		return
	}
	for _, r := range sp.runs {
		y := oy + r.y
		if y < b.Min.Y || y >= b.Max.Y {
			continue
		}
		x0, alpha := ox+r.x0, r.alpha
		if x0 < b.Min.X {
			skip := b.Min.X - x0
			if skip >= len(alpha) {
				continue
			}
			x0, alpha = b.Min.X, alpha[skip:]
		}
		if n := b.Max.X - x0; n < len(alpha) {
			if n <= 0 {
				continue
			}
			alpha = alpha[:n]
		}
		dst := img.Pix[img.PixOffset(x0, y):]
		for i, a := range alpha {
			p := dst[i*4 : i*4+4 : i*4+4]
			l := page.at(x0+i, y)
			tone := sp.tone[l]
			a := min(255, uint32(a)*uint32(sp.gain[l])>>8)
			k := 255 - a
			p[0] = uint8((uint32(tone.R)*a + uint32(p[0])*k + 127) / 255)
			p[1] = uint8((uint32(tone.G)*a + uint32(p[1])*k + 127) / 255)
			p[2] = uint8((uint32(tone.B)*a + uint32(p[2])*k + 127) / 255)
			p[3] = uint8(a + (uint32(p[3])*k+127)/255)
		}
	}
}

// block renders the text lines once, unrotated, on a transparent
// background with a margin. Each line is shaped (textshape) and drawn
// glyph by glyph with go-text's rasteriser.
func (st *Stamper) block(s Spec) (*image.RGBA, error) {
	size := fixed.Int26_6(math.Round(s.TextHeight * 64)) // em size in pixels
	lines := s.Fields()
	shaped := make([]textshape.Line, len(lines))
	lineH := int(math.Ceil(s.TextHeight * 1.3))
	width := 0
	for i, l := range lines {
		var err error
		if shaped[i], err = st.shape(size, l); err != nil {
			return nil, fmt.Errorf("watermark: %w", err)
		}
		width = max(width, shaped[i].Width().Ceil())
	}
	padX, padY := lineH, lineH/3
	flat := image.NewRGBA(image.Rect(0, 0, width+2*padX, lineH*len(lines)+2*padY))
	r := render.Renderer{FontSize: float32(s.TextHeight), PixScale: 1, Color: s.Color}
	// go-text rasterises a run over the whole image it is given; each run
	// gets the part of the block it can reach (two ems above its baseline,
	// one below, an em to either side), which made a new view's sprite
	// several times faster to draw.
	em := int(math.Ceil(s.TextHeight))
	for i, line := range shaped {
		x, y := padX, padY+lineH*(i+1)-lineH/4
		for _, run := range line {
			reach := image.Rect(x-em, y-2*em, x+run.Advance.Ceil()+em, y+em).Intersect(flat.Rect)
			o := reach.Min
			x = o.X + r.DrawShapedRunAt(run, flat.SubImage(reach).(*image.RGBA), x-o.X, y-o.Y)
		}
	}
	return flat, nil
}

// fade scales every pixel of a premultiplied image by opacity, so the tile
// can be composited with the fast unmasked path.
func fade(img *image.RGBA, opacity float64) {
	k := uint32(math.Round(opacity * 256))
	for i := range img.Pix {
		img.Pix[i] = uint8(uint32(img.Pix[i]) * k >> 8)
	}
}

// rotate returns src (premultiplied, transparent outside) turned by deg
// degrees counter-clockwise, on a canvas just large enough to hold it,
// sampled bilinearly. It is x/image/draw's BiLinear.Transform specialised
// to RGBA and to the part of each row the rotated block covers: a new
// sprite is made for every view (each has its own trace code), and the
// general transform took three quarters of a page's stamping time.
func rotate(src *image.RGBA, deg float64) *image.RGBA {
	rad := deg * math.Pi / 180
	sin, cos := math.Sin(rad), math.Cos(rad)
	w, h := float64(src.Rect.Dx()), float64(src.Rect.Dy())
	nw := math.Abs(w*cos) + math.Abs(h*sin)
	nh := math.Abs(w*sin) + math.Abs(h*cos)
	dst := image.NewRGBA(image.Rect(0, 0, int(math.Ceil(nw)), int(math.Ceil(nh))))
	// Inverse map, destination pixel centre → source coordinates with
	// pixel centres at integers: turn clockwise about the centres.
	cxd, cyd, cxs, cys := nw/2, nh/2, w/2-0.5, h/2-0.5
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dw := dst.Rect.Dx()
	for y := range dst.Rect.Dy() {
		dy := float64(y) + 0.5 - cyd
		// The source is sampled where -1 < sx < sw and -1 < sy < sh; both
		// are linear in dx, so each row needs only one span of x.
		lo, hi := -math.MaxFloat64, math.MaxFloat64
		lo, hi = span(lo, hi, cos, -sin*dy+cxs, float64(sw))
		lo, hi = span(lo, hi, sin, cos*dy+cys, float64(sh))
		if lo >= hi {
			continue
		}
		xa := max(0, int(math.Floor(lo+cxd-0.5)))
		xb := min(dw-1, int(math.Ceil(hi+cxd-0.5)))
		row := dst.Pix[y*dst.Stride:]
		for x := xa; x <= xb; x++ {
			dx := float64(x) + 0.5 - cxd
			sx := cos*dx - sin*dy + cxs
			sy := sin*dx + cos*dy + cys
			if sx <= -1 || sy <= -1 || sx >= float64(sw) || sy >= float64(sh) {
				continue
			}
			bilinear(row[x*4:x*4+4], src, sx, sy)
		}
	}
	return dst
}

// span narrows (lo, hi) to the dx where -1 < a*dx + b < limit.
func span(lo, hi, a, b, limit float64) (float64, float64) {
	switch {
	case a > 0:
		return max(lo, (-1-b)/a), min(hi, (limit-b)/a)
	case a < 0:
		return max(lo, (limit-b)/a), min(hi, (-1-b)/a)
	case b <= -1 || b >= limit:
		return 0, 0
	}
	return lo, hi
}

// bilinear writes into o (one RGBA pixel) src sampled at (sx, sy), pixel
// centres at integers, transparent outside src.
func bilinear(o []uint8, src *image.RGBA, sx, sy float64) {
	x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
	fx, fy := sx-float64(x0), sy-float64(y0)
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	var r, g, b, a float64
	tap := func(x, y int, w float64) {
		if x < 0 || y < 0 || x >= sw || y >= sh || w == 0 {
			return
		}
		p := src.Pix[y*src.Stride+x*4 : y*src.Stride+x*4+4]
		if p[3] == 0 {
			return
		}
		r += float64(p[0]) * w
		g += float64(p[1]) * w
		b += float64(p[2]) * w
		a += float64(p[3]) * w
	}
	tap(x0, y0, (1-fx)*(1-fy))
	tap(x0+1, y0, fx*(1-fy))
	tap(x0, y0+1, (1-fx)*fy)
	tap(x0+1, y0+1, fx*fy)
	if a < 0.5 {
		return
	}
	o[0] = uint8(min(r+0.5, 255))
	o[1] = uint8(min(g+0.5, 255))
	o[2] = uint8(min(b+0.5, 255))
	o[3] = uint8(min(a+0.5, 255))
}
