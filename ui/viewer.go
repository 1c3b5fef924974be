package ui

import (
	"fmt"
	"image"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// Zoom modes of the preview pane.
const (
	fitPage     = 0  // the whole page in the pane
	fitWidth    = -1 // the page's width fills the pane; scroll down
	defaultZoom = fitWidth
)

const (
	minZoom, maxZoom = 0.25, 4.0
	maxDPI           = 300 // pages past this are slow and large; zoom scales the pixels instead
	baseDPI          = 96  // Fyne's logical pixels are 1/96 inch at scale 1
)

// viewer shows one rendered page at a zoom: fit page, fit width, or a
// fixed scale with scrollbars. It knows nothing of vaults; mainView hands
// it pages rendered at the DPI it asks for.
type viewer struct {
	image  *canvas.Image
	scroll *container.Scroll
	pane   *fyne.Container // holds image (fit page) or scroll
	mode   float64         // fitPage, fitWidth, or a zoom factor
	label  *widget.Label   // the zoom in per cent: "150 %"; the fit buttons say the mode
	dpi    float64         // of the page shown
	scale  float32         // the canvas's pixel scale
}

func newViewer() *viewer {
	v := &viewer{image: canvas.NewImageFromImage(nil), label: widget.NewLabel("100 %"), scale: 1, mode: defaultZoom}
	v.image.FillMode = canvas.ImageFillContain
	v.image.ScaleMode = canvas.ImageScaleSmooth
	v.scroll = container.NewScroll(container.NewCenter(v.image))
	v.pane = container.New(&paneLayout{v: v}, v.scroll)
	return v
}

// renderDPI is the resolution to render the next page at: the zoom the
// mode gives for the page last shown (documents rarely change page size),
// times the screen's pixel scale, so that pixels are not stretched. It
// moves in steps of 10 %, so that a slightly resized window keeps the
// document app holds open at its resolution.
func (v *viewer) renderDPI() float64 {
	d := clampDPI(v.effectiveZoom() * baseDPI * float64(v.scale))
	const step = 1.1
	return math.Round(36*math.Pow(step, math.Round(math.Log(d/36)/math.Log(step)))*10) / 10
}

// effectiveZoom is the zoom factor the mode means for the page shown: 1
// when no page is shown yet.
func (v *viewer) effectiveZoom() float64 {
	if v.mode > 0 {
		return v.mode
	}
	w, h := v.pageInches()
	if w <= 0 { // no page yet: most documents are A4 or Letter
		w, h = 8.27, 11.69
	}
	size := v.pane.Size()
	if size.Width <= 0 {
		return 110.0 / baseDPI
	}
	zoom := float64(size.Width-2*scrollbarRoom) / (w * baseDPI)
	if v.mode == fitPage {
		zoom = min(float64(size.Width)/(w*baseDPI), float64(size.Height)/(h*baseDPI))
	}
	return max(zoom, minZoom)
}

const scrollbarRoom = 12

// watermarkLine is the least height of a watermark's line on screen, in
// logical pixels: legible at every zoom.
const watermarkLine = 14

// watermarkHeight is the least height of a watermark line, in pixels of
// a page rendered at dpi and shown at the current zoom: watermarkLine on
// screen. A page shown smaller than it was rendered (at Fit page, where
// the renderer's least resolution is more than the pane needs) gets a
// larger watermark, so that the shrinking leaves it legible.
func (v *viewer) watermarkHeight(dpi float64) float64 {
	shown := v.effectiveZoom() * baseDPI // logical pixels per inch on screen
	return math.Ceil(watermarkLine * dpi / shown)
}

func clampDPI(d float64) float64 { return min(max(d, 36), maxDPI) }

// show puts a page rendered at dpi on screen at the current zoom.
func (v *viewer) show(img image.Image, dpi float64) {
	v.dpi = dpi
	v.image.Image = img
	v.layout()
}

// clear empties the pane.
func (v *viewer) clear() {
	v.image.Image = nil
	v.image.Refresh()
}

// pageInches is the size of the page shown, or zeros.
func (v *viewer) pageInches() (w, h float64) {
	if v.image.Image == nil || v.dpi <= 0 {
		return 0, 0
	}
	b := v.image.Image.Bounds()
	return float64(b.Dx()) / v.dpi, float64(b.Dy()) / v.dpi
}

// fit gives the image the size the mode asks for at the pane's size.
func (v *viewer) fit() {
	if v.mode == fitPage || v.image.Image == nil || v.dpi <= 0 {
		return
	}
	b := v.image.Image.Bounds()
	f := v.effectiveZoom() * baseDPI / v.dpi
	v.image.SetMinSize(fyne.NewSize(float32(float64(b.Dx())*f), float32(float64(b.Dy())*f)))
	v.image.Refresh()
}

// layout sizes the image for the mode and picks the container.
func (v *viewer) layout() {
	if v.mode == fitPage {
		v.image.SetMinSize(fyne.NewSize(0, 0))
		v.label.SetText(v.percent())
		if len(v.pane.Objects) != 1 || v.pane.Objects[0] != v.image {
			v.pane.Objects = []fyne.CanvasObject{v.image}
			v.pane.Refresh()
		}
		v.image.Refresh()
		return
	}
	v.label.SetText(v.percent())
	// Logical size: inches × 96 × zoom, whatever DPI the pixels have.
	v.fit()
	if len(v.pane.Objects) != 1 || v.pane.Objects[0] != v.scroll {
		v.pane.Objects = []fyne.CanvasObject{v.scroll}
		v.pane.Refresh()
	}
	v.image.Refresh()
	v.scroll.Refresh()
}

// percent is the zoom on screen, as the toolbar says it.
func (v *viewer) percent() string {
	return fmt.Sprintf("%.0f %%", v.effectiveZoom()*100)
}

// zoomBy steps the zoom in (+1) or out (-1) from what is on screen.
func (v *viewer) zoomBy(step int) {
	cur := v.effectiveZoom() // from a fit mode: its current scale
	levels := []float64{0.25, 0.33, 0.5, 0.67, 0.75, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4}
	next := cur
	if step > 0 {
		next = maxZoom
		for _, l := range levels {
			if l > cur+0.01 {
				next = l
				break
			}
		}
	} else {
		next = minZoom
		for i := len(levels) - 1; i >= 0; i-- {
			if levels[i] < cur-0.01 {
				next = levels[i]
				break
			}
		}
	}
	v.mode = next
}

// paneLayout fills the pane with its content, as a stack does, and fits
// the page again when the pane's size changes in a fit mode.
type paneLayout struct {
	v    *viewer
	last fyne.Size
}

func (l *paneLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if size != l.last {
		l.last = size
		if l.v.mode <= 0 && l.v.image.Image != nil {
			l.v.fit() // before the scroll is laid out with the image's old size
			if p := l.v.percent(); p != l.v.label.Text {
				l.v.label.SetText(p)
			}
		}
	}
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (l *paneLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	return m
}
