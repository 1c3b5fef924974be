package preview_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/xuri/excelize/v2"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/preview"
	"github.com/coffer-vault/coffer/preview/pdf"
)

// tempWatch records the files created in some folders while it runs.
type tempWatch struct {
	w    *fsnotify.Watcher
	dirs []string
	keep func(path string) bool // which creations count

	mu      sync.Mutex
	created []string
	synced  map[string]chan struct{} // sentinel path → closed when seen
	errs    []error
}

// watchTemp watches dirs (not their subfolders) until the test ends; keep
// says which created paths to record.
func watchTemp(t *testing.T, keep func(path string) bool, dirs ...string) *tempWatch {
	t.Helper()
	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	tw := &tempWatch{w: w, dirs: dirs, keep: keep, synced: map[string]chan struct{}{}}
	for _, d := range dirs {
		if err := w.Add(d); err != nil {
			w.Close()
			t.Fatalf("watch %s: %v", d, err)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if !ev.Has(fsnotify.Create) {
					continue
				}
				tw.mu.Lock()
				if c, ok := tw.synced[ev.Name]; ok {
					close(c)
					delete(tw.synced, ev.Name)
				} else if tw.keep(ev.Name) {
					tw.created = append(tw.created, ev.Name)
				}
				tw.mu.Unlock()
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				tw.mu.Lock()
				tw.errs = append(tw.errs, err)
				tw.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		w.Close()
		<-done
	})
	return tw
}

// take returns the paths created since the last take. It first creates a
// sentinel file in every watched folder and waits for its event: events
// of one folder arrive in order, so every creation before take is in.
func (tw *tempWatch) take(t *testing.T) []string {
	t.Helper()
	for i, d := range tw.dirs {
		p := filepath.Join(d, fmt.Sprintf("coffer-watch-sync-%d-%d", os.Getpid(), i))
		seen := make(chan struct{})
		tw.mu.Lock()
		tw.synced[p] = seen
		tw.mu.Unlock()
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		select {
		case <-seen:
		case <-time.After(30 * time.Second):
			t.Fatalf("the watch never saw %s", p)
		}
		os.Remove(p)
	}
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if len(tw.errs) > 0 {
		t.Fatalf("watch: %v (events may be lost)", errors.Join(tw.errs...))
	}
	got := tw.created
	tw.created = nil
	return got
}

// TestNoPlaintextInTempFiles previews a document of every kind package
// preview reads — images, text, CSV, Markdown, workbooks and a PDF — with
// the temp folder (TMPDIR) set to a fresh folder, and watches that folder
// and /tmp: any file created in the first, or any excelize-* file in
// /tmp, fails the test. The workbooks include one whose sheet unpacks to
// more than the 64 MiB excelize was allowed to hold in memory before (the
// control below shows excelize spilling it to a temp file under those
// options) and one whose shared strings are too large to preview.
func TestNoPlaintextInTempFiles(t *testing.T) {
	tmp := t.TempDir()
	for _, v := range []string{"TMPDIR", "TMP", "TEMP"} {
		t.Setenv(v, tmp)
	}
	if os.TempDir() != tmp {
		t.Fatalf("os.TempDir() is %s after setting TMPDIR to %s", os.TempDir(), tmp)
	}
	ctx := context.Background()
	corpus := testenv.Corpus(t)
	read := func(rel string) []byte {
		data, err := os.ReadFile(filepath.Join(corpus, rel))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	r, err := pdf.NewRenderer(ctx, pdf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	bigSheet := bigSheetWorkbook(t, 65)
	bigStrings := bigStringsWorkbook(t, 33)
	src := image.NewPaletted(image.Rect(0, 0, 30, 20), []color.Color{color.White, color.Black})
	encoded := map[string]func(*bytes.Buffer) error{
		"x.gif":  func(b *bytes.Buffer) error { return gif.Encode(b, src, nil) },
		"x.bmp":  func(b *bytes.Buffer) error { return bmp.Encode(b, src) },
		"x.tiff": func(b *bytes.Buffer) error { return tiff.Encode(b, src, nil) },
	}

	docs := []struct {
		name string
		data []byte
		want error // nil: the preview renders
	}{
		{"logo.png", read("img/debian-logo-256.png"), nil},
		{"preview.jpg", read("img/debian-preview.jpg"), nil},
		{"Apache-2.0.txt", read("text/Apache-2.0.txt"), nil},
		{"debian-releases.csv", read("text/debian-releases.csv"), nil},
		{"glib-README.md", read("text/glib-README.md"), nil},
		{"datasets.xlsx", read("xlsx/datasets.xlsx"), nil},
		{"deaths.xlsx", read("xlsx/deaths.xlsx"), nil},
		{"big-sheet.xlsx", bigSheet, nil},
		{"big-strings.xlsx", bigStrings, preview.ErrTooLarge},
		{"reportlab-userguide.pdf", read("pdf/reportlab-userguide.pdf"), nil},
	}
	for name, enc := range encoded {
		var b bytes.Buffer
		if err := enc(&b); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, struct {
			name string
			data []byte
			want error
		}{name, b.Bytes(), nil})
	}

	dirs := []string{tmp}
	if st, err := os.Stat("/tmp"); err == nil && st.IsDir() {
		dirs = append(dirs, "/tmp")
	}
	w := watchTemp(t, func(p string) bool {
		return filepath.Dir(p) == tmp || strings.HasPrefix(filepath.Base(p), "excelize-")
	}, dirs...)

	// Control: under the options previews used before, excelize unpacks
	// the big sheet to a temp file, and the watch sees it.
	f, err := excelize.OpenReader(bytes.NewReader(bigSheet), excelize.Options{UnzipSizeLimit: 256 << 20, UnzipXMLSizeLimit: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := w.take(t); len(got) == 0 || !strings.HasPrefix(filepath.Base(got[0]), "excelize-") {
		t.Fatalf("control: excelize with a 64 MiB in-memory limit created %q in the temp folder, want an excelize-* file", got)
	}

	for _, d := range docs {
		doc, err := preview.Open(ctx, d.data, "", d.name, preview.Options{PDF: r})
		if d.want != nil {
			if !errors.Is(err, d.want) {
				t.Errorf("%s: %v, want %v", d.name, err, d.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", d.name, err)
			continue
		}
		for _, page := range []int{0, doc.Pages() - 1} {
			if _, err := doc.Render(ctx, page, 72); err != nil {
				t.Errorf("%s page %d: %v", d.name, page+1, err)
			}
		}
		if err := doc.Close(); err != nil {
			t.Errorf("%s: close: %v", d.name, err)
		}
	}
	if got := w.take(t); len(got) > 0 {
		t.Errorf("previews created files in the temp folders: %q", got)
	}
	if left, err := os.ReadDir(tmp); err != nil || len(left) > 0 {
		t.Errorf("left in the temp folder: %v %v", left, err)
	}
}
