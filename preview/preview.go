// Package preview turns a document's bytes into page images: PDF pages
// (through package preview/pdf), Word, PowerPoint and OpenDocument files
// (converted to PDF by package preview/office), images, spreadsheets as
// grids of cells, Markdown as formatted text, and text and CSV set in
// pages. It works from bytes in memory and never writes plaintext to disk;
// drawing the watermark on the pages is package watermark's job.
package preview

import (
	"context"
	"errors"
	"fmt"
	"image"
	"mime"
	"path/filepath"
	"strings"

	"github.com/coffer-vault/coffer/preview/office"
)

// Document is an opened document whose pages render on demand: page N
// renders without pages before it.
type Document interface {
	// Pages returns the number of pages (at least 1).
	Pages() int
	// Render draws page (0-based) at dpi dots per inch.
	Render(ctx context.Context, page int, dpi float64) (*image.RGBA, error)
	Close() error
}

// Errors callers test with errors.Is.
var (
	ErrUnsupported = errors.New("no preview for this type")
	// ErrTooLarge reports a page, an image or a workbook larger than a
	// preview may hold in memory.
	ErrTooLarge = errors.New("too large to preview")
	ErrPage     = errors.New("no such page")
	ErrCorrupt  = errors.New("document cannot be read")
)

// DefaultMaxPixels bounds one rendered page (40 megapixels, 160 MiB RGBA).
const DefaultMaxPixels = 40_000_000

// PDFOpener opens PDFs; package preview/pdf's Renderer is one. It is an
// interface so the text and image paths need no WebAssembly runtime.
type PDFOpener interface {
	OpenPDF(ctx context.Context, data []byte) (Document, error)
}

// OfficeConverter turns Word, PowerPoint and OpenDocument files into PDF;
// package preview/office's Converter is one.
type OfficeConverter interface {
	// Convert returns data, a document named with extension ext (".docx"),
	// as PDF.
	Convert(ctx context.Context, data []byte, ext string) ([]byte, error)
}

// Options tune Open.
type Options struct {
	MaxPixels int       // 0 means DefaultMaxPixels
	PDF       PDFOpener // nil: PDFs are ErrUnsupported
	// Office converts Office documents to PDF, which PDF then renders;
	// nil (or a nil PDF): they are ErrUnsupported.
	Office OfficeConverter
	// Text sets text, CSV, Markdown and spreadsheets; nil parses the
	// fonts for this document alone (see TextFonts).
	Text *TextFonts
}

// Kind is the family of renderer a document needs.
type Kind int

const (
	Unsupported Kind = iota
	PDF
	Image
	Text
	CSV
	Spreadsheet
	// Office is a word-processing document, a presentation or a
	// spreadsheet excelize cannot read, converted to PDF.
	Office
	// Markdown is text set as formatted text: headings, lists, tables, code.
	Markdown
)

// officeTypes maps the media types of Office documents to the extension
// the converter is told, for documents stored without one.
var officeTypes = map[string]string{
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
	"application/msword":                      ".doc",
	"application/vnd.oasis.opendocument.text": ".odt",
	"application/rtf":                         ".rtf",
	"text/rtf":                                ".rtf",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
	"application/vnd.ms-powerpoint":                                             ".ppt",
	"application/vnd.oasis.opendocument.presentation":                           ".odp",
	"application/vnd.oasis.opendocument.spreadsheet":                            ".ods",
	"application/vnd.ms-excel":                                                  ".xls",
}

// officeExt returns the extension a document of an Office kind is
// converted as: its name's, else its media type's.
func officeExt(mediaType, name string) string {
	if ext := strings.ToLower(filepath.Ext(name)); office.Supported(ext) {
		return ext
	}
	mt, _, _ := mime.ParseMediaType(mediaType)
	return officeTypes[mt]
}

// KindOf decides how to preview a document from its media type and name.
func KindOf(mediaType, name string) Kind {
	mt, _, _ := mime.ParseMediaType(mediaType)
	ext := strings.ToLower(filepath.Ext(name))
	switch {
	case mt == "application/pdf" || ext == ".pdf":
		return PDF
	case strings.HasPrefix(mt, "image/") || in(ext, ".png", ".jpg", ".jpeg", ".gif", ".webp", ".tif", ".tiff", ".bmp"):
		return Image
	case mt == "text/csv" || ext == ".csv":
		return CSV
	case mt == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" || ext == ".xlsx" || ext == ".xlsm":
		return Spreadsheet
	case office.Supported(ext) || officeTypes[mt] != "":
		return Office
	case mt == "text/markdown" || mt == "text/x-markdown" || in(ext, ".md", ".markdown"):
		return Markdown
	case strings.HasPrefix(mt, "text/") || in(ext, ".txt", ".log", ".json"):
		return Text
	}
	return Unsupported
}

func in(s string, list ...string) bool {
	for _, l := range list {
		if s == l {
			return true
		}
	}
	return false
}

// Open prepares data for preview. Unknown types return ErrUnsupported;
// the document itself stays importable and listed.
func Open(ctx context.Context, data []byte, mediaType, name string, opts Options) (Document, error) {
	if opts.MaxPixels <= 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	switch KindOf(mediaType, name) {
	case PDF:
		if opts.PDF == nil {
			return nil, ErrUnsupported
		}
		return opts.PDF.OpenPDF(ctx, data)
	case Image:
		return openImage(data, opts.MaxPixels)
	case CSV:
		return openCSV(data, opts)
	case Spreadsheet:
		return openXLSX(ctx, data, opts)
	case Office:
		if opts.Office == nil || opts.PDF == nil {
			return nil, ErrUnsupported
		}
		pdf, err := opts.Office.Convert(ctx, data, officeExt(mediaType, name))
		if err != nil {
			return nil, err
		}
		doc, err := opts.PDF.OpenPDF(ctx, pdf)
		if err != nil {
			return nil, fmt.Errorf("the PDF LibreOffice made: %w", err)
		}
		return doc, nil
	case Markdown:
		return openMarkdown(data, opts)
	case Text:
		return openText(data, opts)
	}
	return nil, ErrUnsupported
}
