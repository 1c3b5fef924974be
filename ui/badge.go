package ui

import (
	"image/color"
	"path"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// A file's kind shows in the Type column as a badge — its extension in
// capitals on the colour of its family, as office suites colour them
// (Word blue, PowerPoint orange, Excel green, PDF red) — beside its name.

// family is a kind of document: its label and badge colour.
type family struct {
	label string
	color color.NRGBA
}

var (
	famWord     = family{"Word document", color.NRGBA{R: 43, G: 87, B: 154, A: 255}}
	famSlides   = family{"Presentation", color.NRGBA{R: 196, G: 62, B: 28, A: 255}}
	famSheet    = family{"Spreadsheet", color.NRGBA{R: 33, G: 115, B: 70, A: 255}}
	famPDF      = family{"PDF", color.NRGBA{R: 179, G: 11, B: 0, A: 255}}
	famMarkdown = family{"Markdown", color.NRGBA{R: 55, G: 65, B: 81, A: 255}}
	famText     = family{"Text", color.NRGBA{R: 107, G: 114, B: 128, A: 255}}
	famImage    = family{"Image", color.NRGBA{R: 124, G: 58, B: 173, A: 255}}
	famOther    = family{"File", color.NRGBA{R: 140, G: 140, B: 140, A: 255}}
)

// byExt names the families of the extensions Coffer previews; labels
// where the family's own would be vague.
var byExt = map[string]struct {
	f     family
	label string
}{
	"docx": {famWord, "Word document"}, "docm": {famWord, "Word document"}, "doc": {famWord, "Word 97–2003 document"},
	"dotx": {famWord, "Word template"}, "odt": {famWord, "OpenDocument text"}, "rtf": {famWord, "Rich Text document"},
	"pptx": {famSlides, "PowerPoint"}, "pptm": {famSlides, "PowerPoint"}, "ppsx": {famSlides, "PowerPoint show"},
	"ppt": {famSlides, "PowerPoint 97–2003"}, "pps": {famSlides, "PowerPoint 97–2003 show"}, "odp": {famSlides, "OpenDocument presentation"},
	"xlsx": {famSheet, "Excel workbook"}, "xlsm": {famSheet, "Excel workbook"}, "xls": {famSheet, "Excel 97–2003 workbook"},
	"ods": {famSheet, "OpenDocument spreadsheet"}, "csv": {famSheet, "CSV"},
	"pdf": {famPDF, "PDF"},
	"md":  {famMarkdown, "Markdown"}, "markdown": {famMarkdown, "Markdown"},
	"txt": {famText, "Text"}, "log": {famText, "Log"}, "json": {famText, "JSON"},
}

// byType maps media types to extensions, for files stored without one.
var byType = map[string]string{
	"application/pdf": "pdf", "text/csv": "csv", "text/markdown": "md", "text/plain": "txt",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         "xlsx",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   "docx",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
	"application/msword": "doc", "application/vnd.ms-powerpoint": "ppt", "application/vnd.ms-excel": "xls",
	"application/rtf": "rtf", "text/rtf": "rtf",
	"application/vnd.oasis.opendocument.text":         "odt",
	"application/vnd.oasis.opendocument.presentation": "odp",
	"application/vnd.oasis.opendocument.spreadsheet":  "ods",
}

// fileKind returns a file's badge text (its extension in capitals, at
// most 4 letters; "" for none), family and label, from its name's
// extension, else its media type.
func fileKind(mediaType, name string) (badge string, f family, label string) {
	mt, _, _ := strings.Cut(mediaType, ";")
	mt = strings.TrimSpace(mt)
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	if _, ok := byExt[ext]; !ok {
		if e, ok := byType[mt]; ok {
			ext = e
		}
	}
	if k, ok := byExt[ext]; ok {
		return strings.ToUpper(ext[:min(len(ext), 4)]), k.f, k.label
	}
	if kind, sub, ok := strings.Cut(mt, "/"); ok && kind == "image" {
		sub = strings.TrimPrefix(sub, "x-")
		return strings.ToUpper(sub[:min(len(sub), 4)]), famImage, strings.ToUpper(sub) + " image"
	}
	if mt == "application/zip" {
		return "ZIP", famOther, "ZIP archive"
	}
	if ext != "" && len(ext) <= 5 {
		return strings.ToUpper(ext[:min(len(ext), 4)]), famOther, strings.ToUpper(ext) + " file"
	}
	return "", famOther, "File"
}

// typeLabel names a file's kind the way a file manager would.
func typeLabel(mediaType, name string) string {
	_, _, label := fileKind(mediaType, name)
	return label
}

// newCell makes a cell of the file table: a label, with a badge the Type
// column shows.
func newCell() fyne.CanvasObject {
	l := widget.NewLabel("")
	l.Truncation = fyne.TextTruncateEllipsis
	back := canvas.NewRectangle(famOther.color)
	back.CornerRadius = 3
	badge := canvas.NewText("DOCX", color.White)
	badge.TextSize = 9
	badge.TextStyle.Bold = true
	badge.Alignment = fyne.TextAlignCenter
	chip := container.NewStack(back, container.NewPadded(badge))
	return container.NewBorder(nil, nil, container.NewCenter(chip), nil, l)
}

// setCell shows text in a cell, with a badge when badge is not "".
func setCell(o fyne.CanvasObject, text, badge string, c color.Color) {
	box := o.(*fyne.Container)
	var l *widget.Label
	var chip *fyne.Container
	for _, obj := range box.Objects {
		switch v := obj.(type) {
		case *widget.Label:
			l = v
		case *fyne.Container:
			chip = v
		}
	}
	l.SetText(text)
	stack := chip.Objects[0].(*fyne.Container)
	back := stack.Objects[0].(*canvas.Rectangle)
	txt := stack.Objects[1].(*fyne.Container).Objects[0].(*canvas.Text)
	txt.Text = badge
	if badge == "" {
		chip.Hide()
		return
	}
	back.FillColor = c
	back.Refresh()
	txt.Refresh()
	chip.Show()
}
