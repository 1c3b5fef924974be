package ui

import (
	"image"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// TestWatermarkLegibleAtEveryZoom: whatever the zoom and the pane, the
// watermark line the viewer asks for is at least watermarkLine logical
// pixels high once the page is on screen, at Fit page too, where the
// renderer's least resolution is more than a small pane shows.
func TestWatermarkLegibleAtEveryZoom(t *testing.T) {
	test.NewTempApp(t)
	for _, pane := range []fyne.Size{{Width: 300, Height: 280}, {Width: 900, Height: 600}} {
		for _, mode := range []float64{fitPage, fitWidth, 0.25, 1, 4} {
			v := newViewer()
			v.pane.Resize(pane)
			v.mode = mode
			dpi := v.renderDPI()
			// An A4 page as the renderer gives it at dpi.
			v.show(image.NewRGBA(image.Rect(0, 0, int(8.27*dpi), int(11.69*dpi))), dpi)
			h := v.watermarkHeight(dpi)
			onScreen := h * v.effectiveZoom() * baseDPI / dpi
			if onScreen < watermarkLine-0.01 {
				t.Errorf("pane %v, zoom mode %v, rendered at %.0f dpi: a watermark line of %.0f pixels is %.1f on screen",
					pane, mode, dpi, h, onScreen)
			}
		}
	}
}
