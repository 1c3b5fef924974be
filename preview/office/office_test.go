package office_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/coffer-vault/coffer/internal/testdocs"
	"github.com/coffer-vault/coffer/internal/testenv"
	"github.com/coffer-vault/coffer/preview/office"
)

func converter(t *testing.T, opts office.Options) *office.Converter {
	t.Helper()
	testdocs.Soffice(t)
	c, err := office.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// pageText returns the text of page n (from 1) of pdf, by poppler's
// pdftotext: a reader other than the one previews use.
func pageText(t *testing.T, pdf []byte, n int) string {
	t.Helper()
	cmd := exec.Command("pdftotext", "-f", fmt.Sprint(n), "-l", fmt.Sprint(n), "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext page %d: %v (make test-deps installs poppler-utils)", n, err)
	}
	return string(out)
}

// pages returns the page count of pdf, by poppler's pdfinfo.
func pages(t *testing.T, pdf []byte) int {
	t.Helper()
	cmd := exec.Command("pdfinfo", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdfinfo: %v", err)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "Pages:"); ok {
			var n int
			fmt.Sscan(v, &n)
			return n
		}
	}
	t.Fatalf("pdfinfo: no page count in %s", out)
	return 0
}

// TestConvertFormats converts a document of each format LibreOffice wrote
// (Word and PowerPoint, old and new, OpenDocument, RTF) and checks that
// every page of the PDF holds its own marker, in the sandbox this system
// allows.
func TestConvertFormats(t *testing.T) {
	c := converter(t, office.Options{})
	iso, err := c.Isolation(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s, sandbox: %s", c.Product(), iso)
	cases := []struct {
		ext   string
		pages int
		make  func(testing.TB, string, int, string) []byte
	}{
		{".docx", 3, testdocs.Text},
		{".doc", 3, testdocs.Text},
		{".odt", 3, testdocs.Text},
		{".rtf", 3, testdocs.Text},
		{".pptx", 4, testdocs.Slides},
		{".ppt", 4, testdocs.Slides},
		{".odp", 4, testdocs.Slides},
	}
	for _, tc := range cases {
		t.Run(tc.ext, func(t *testing.T) {
			data := tc.make(t, tc.ext, tc.pages, "CONV"+strings.ToUpper(tc.ext[1:]))
			pdf, err := c.Convert(context.Background(), data, tc.ext)
			if err != nil {
				t.Fatal(err)
			}
			if n := pages(t, pdf); n != tc.pages {
				t.Errorf("%d pages, want %d", n, tc.pages)
			}
			for n := 1; n <= tc.pages; n++ {
				text := pageText(t, pdf, n)
				for m := 1; m <= tc.pages; m++ {
					mark := testdocs.Marker("CONV"+strings.ToUpper(tc.ext[1:]), m)
					if has := strings.Contains(text, mark); has != (m == n) {
						t.Errorf("page %d: holds %s: %v", n, mark, has)
					}
				}
			}
		})
	}
}

// TestCachedInMemory: the second conversion of a document is served from
// memory (the same bytes, not a new conversion); Close drops the cache and
// refuses further work.
func TestCachedInMemory(t *testing.T) {
	c := converter(t, office.Options{})
	data := testdocs.Text(t, ".docx", 1, "CACHE")
	ctx := context.Background()
	first, err := c.Convert(ctx, data, ".docx")
	if err != nil {
		t.Fatal(err)
	}
	if c.Cached() != int64(len(first)) {
		t.Errorf("cache holds %d bytes after one conversion of %d", c.Cached(), len(first))
	}
	again, err := c.Convert(ctx, data, ".DOCX")
	if err != nil {
		t.Fatal(err)
	}
	if &again[0] != &first[0] {
		t.Error("the second conversion was not served from the cache")
	}
	c.Close()
	if c.Cached() != 0 {
		t.Errorf("cache holds %d bytes after Close", c.Cached())
	}
	if _, err := c.Convert(ctx, data, ".docx"); !errors.Is(err, office.ErrClosed) {
		t.Errorf("Convert after Close: %v, want ErrClosed", err)
	}
}

// TestPasswordProtected: Office documents encrypted with a password
// (agile encryption, as Office 2010 and later write it, made by excelize
// around a real .docx and .pptx), and legacy Word and PowerPoint files
// whose headers say they are encrypted, are refused as password-protected
// before LibreOffice runs; LibreOffice itself only says it could not load
// them.
func TestPasswordProtected(t *testing.T) {
	c := converter(t, office.Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		ext  string
		data []byte
	}{
		{".docx", encrypt(t, testdocs.Text(t, ".docx", 1, "PASSWORD"))},
		{".pptx", encrypt(t, testdocs.Slides(t, ".pptx", 1, "PASSWORD"))},
		{".doc", markDocEncrypted(t, testdocs.Text(t, ".doc", 1, "PASSWORD"))},
		{".ppt", markPPTEncrypted(t, testdocs.Slides(t, ".ppt", 1, "PASSWORD"))},
	} {
		_, err := c.Convert(ctx, tc.data, tc.ext)
		if !errors.Is(err, office.ErrPassword) || !strings.Contains(err.Error(), "password-protected") {
			t.Errorf("%s: %v, want ErrPassword", tc.ext, err)
		}
	}
	// Judged by content, not by name.
	_, err := c.Convert(ctx, encrypt(t, testdocs.Text(t, ".docx", 1, "PASSWORD")), ".rtf")
	if !errors.Is(err, office.ErrPassword) {
		t.Errorf("an encrypted file named .rtf: %v, want ErrPassword (judged by content)", err)
	}
}

func encrypt(t *testing.T, data []byte) []byte {
	t.Helper()
	out, err := excelize.Encrypt(data, &excelize.Options{Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// markDocEncrypted sets the fEncrypted bit of a real .doc's file
// information block: the WordDocument stream starts a 512-byte sector
// with its identifier 0xA5EC.
func markDocEncrypted(t *testing.T, doc []byte) []byte {
	t.Helper()
	out := bytes.Clone(doc)
	for off := 512; off+12 <= len(out); off += 512 {
		if out[off] == 0xEC && out[off+1] == 0xA5 {
			out[off+0x0B] |= 0x01 // flags at 0x0A, little-endian: 0x0100
			return out
		}
	}
	t.Fatal("no Word file information block found")
	return nil
}

// markPPTEncrypted replaces the header token of a real .ppt's Current User
// atom (record type 0x0FF6, then its size, then the token) with the one
// that marks an encrypted presentation.
func markPPTEncrypted(t *testing.T, ppt []byte) []byte {
	t.Helper()
	out := bytes.Clone(ppt)
	i := bytes.Index(out, []byte{0x00, 0x00, 0xF6, 0x0F})
	if i < 0 || !bytes.Equal(out[i+12:i+16], []byte{0x5F, 0xC0, 0x91, 0xE3}) {
		t.Fatal("no Current User atom found")
	}
	copy(out[i+12:], []byte{0xDF, 0xC4, 0xD1, 0xF3})
	return out
}

// TestCannotOpen: files that are not what their names say are refused
// with LibreOffice's words, not shown as a page of garbage.
func TestCannotOpen(t *testing.T) {
	c := converter(t, office.Options{})
	docx := testdocs.Text(t, ".docx", 1, "BROKEN")
	for name, data := range map[string][]byte{
		"truncated.docx": docx[:len(docx)/2],
	} {
		_, err := c.Convert(context.Background(), data, filepath.Ext(name))
		if !errors.Is(err, office.ErrCannotOpen) {
			t.Errorf("%s: %v, want ErrCannotOpen", name, err)
		}
	}
	if _, err := c.Convert(context.Background(), docx, ".exe"); !errors.Is(err, office.ErrFormat) {
		t.Errorf(".exe: %v, want ErrFormat", err)
	}
}

// TestLimitsKill: a conversion that outlives its time limit, or outgrows
// its memory limit, is killed with every process it started, and says
// why; nothing of it is left running.
func TestLimitsKill(t *testing.T) {
	data := testdocs.Text(t, ".docx", 50, "LIMIT")
	for _, tc := range []struct {
		name string
		opts office.Options
		want error
	}{
		{"time", office.Options{Timeout: 300 * time.Millisecond, CacheBytes: -1}, office.ErrTimeout},
		{"memory", office.Options{MaxMemory: 48 << 20, CacheBytes: -1}, office.ErrMemory},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := converter(t, tc.opts)
			_, err := c.Convert(context.Background(), data, ".docx")
			if !errors.Is(err, tc.want) {
				t.Fatalf("%v, want %v", err, tc.want)
			}
			t.Log(err)
			if left := sandboxProcesses(t); len(left) > 0 {
				t.Errorf("processes of the conversion still run: %v", left)
			}
		})
	}
}

// sandboxProcesses lists the processes that carry the sandbox's
// environment (every process of a conversion inherits it), as seen from
// here; a process still exiting gets a moment.
func sandboxProcesses(t *testing.T) []string {
	t.Helper()
	var found []string
	for range 50 {
		found = found[:0]
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
			if err == nil && bytes.Contains(env, []byte("COFFER_NAME=document.")) {
				cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
				found = append(found, e.Name()+" "+string(bytes.ReplaceAll(cmd, []byte{0}, []byte{' '})))
			}
		}
		if len(found) == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return found
}

// TestNoNetwork: a document whose picture is linked to a URL (a tracking
// pixel) makes LibreOffice fetch it when run plainly (the control); run
// by the converter it reaches nothing, in the namespace sandbox (no
// network) and in the /dev/shm fallback (its proxy points nowhere).
func TestNoNetwork(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	doc := []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" xmlns:xlink="http://www.w3.org/1999/xlink" office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.text">
<office:body><office:text><text:p>Tracked <draw:frame svg:width="2cm" svg:height="2cm" text:anchor-type="as-char"><draw:image xlink:href="http://%s/pixel.png" xlink:type="simple" xlink:show="embed" xlink:actuate="onLoad"/></draw:frame></text:p></office:text></office:body></office:document>`, ln.Addr()))

	// Control: LibreOffice with a profile of its own defaults.
	dir := t.TempDir()
	src := filepath.Join(dir, "pixel.fodt")
	if err := os.WriteFile(src, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	prog := testdocs.Soffice(t).Program
	for range 2 { // the first run makes the profile and exits with 81
		cmd := exec.Command(prog, "-env:UserInstallation=file://"+dir+"/profile", "--headless", "--norestore",
			"--convert-to", "pdf", "--outdir", dir, src)
		cmd.Env = append(os.Environ(), "HOME="+dir)
		_ = cmd.Run()
	}
	if hits.Load() == 0 {
		t.Fatal("control: LibreOffice run plainly did not fetch the linked picture; the test shows nothing")
	}

	for _, iso := range []office.Isolation{office.Auto, office.SharedMemory} {
		hits.Store(0)
		c := converter(t, office.Options{Isolation: iso})
		got, err := c.Isolation(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pdf, err := c.Convert(context.Background(), doc, ".fodt")
		if err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if !strings.Contains(pageText(t, pdf, 1), "Tracked") {
			t.Errorf("%s: the page lacks its text", got)
		}
		if n := hits.Load(); n > 0 {
			t.Errorf("%s: LibreOffice reached the network %d times", got, n)
		}
	}
}

// TestMacrosDoNotRun: an OpenDocument text whose Basic macro, bound to
// the document's load event, would write "MACRO RAN" into it converts
// with its own text only. (LibreOffice 7.4 did not run it in a control
// with macro security at its lowest either: the converter's settings
// are what would stop it on a LibreOffice that does.)
func TestMacrosDoNotRun(t *testing.T) {
	c := converter(t, office.Options{})
	pdf, err := c.Convert(context.Background(), macroDocument(t), ".odt")
	if err != nil {
		t.Fatal(err)
	}
	text := pageText(t, pdf, 1)
	if !strings.Contains(text, "COFFERMACRO") || strings.Contains(text, "MACRO RAN") {
		t.Errorf("page text %q", text)
	}
}

// TestFallbacksLeaveNothing: in the folder sandboxes a conversion's folder
// is gone when it ends, whether it finished or was killed; RemoveStale
// removes a folder whose owner died and keeps one whose owner runs.
func TestFallbacksLeaveNothing(t *testing.T) {
	data := testdocs.Text(t, ".docx", 50, "FALLBACK")
	for _, opts := range []office.Options{
		{Isolation: office.SharedMemory, CacheBytes: -1},
		{Isolation: office.SharedMemory, CacheBytes: -1, Timeout: 300 * time.Millisecond},
	} {
		c := converter(t, opts)
		_, err := c.Convert(context.Background(), data, ".docx")
		if opts.Timeout == 0 && err != nil {
			t.Fatal(err)
		}
		if left, _ := filepath.Glob("/dev/shm/coffer-office-*"); len(left) > 0 {
			t.Errorf("left in /dev/shm after a conversion (error %v): %v", err, left)
		}
	}

	stale := filepath.Join("/dev/shm", "coffer-office-test-stale")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "document.docx"), []byte("COFFER plaintext"), 0o600); err != nil {
		t.Fatal(err)
	}
	running, remove, err := office.PrivateFolder("/dev/shm")
	if err != nil {
		t.Fatal(err)
	}
	defer remove()
	office.RemoveStale()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("RemoveStale left %s: %v", stale, err)
	}
	if _, err := os.Stat(running); err != nil {
		t.Errorf("RemoveStale removed the folder of a running conversion: %v", err)
	}
}

// TestSandboxConfines runs a stand-in for LibreOffice
// (testdata/fake-soffice) that reports what it can reach, in the sandbox
// this system allows and in each weaker one: in the namespace sandbox it
// sees no network interface but a loopback, writes nowhere on disk, sees
// none of the files put in /var/tmp, /dev/shm, the home folder, /mnt,
// /media and /srv, nor the host's processes, and cannot undo any of it;
// the fallbacks are shown to lack exactly that (the control).
func TestSandboxConfines(t *testing.T) {
	fake, err := filepath.Abs("testdata/fake-soffice")
	if err != nil {
		t.Fatal(err)
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	marker := fmt.Sprintf("coffer-sandbox-probe-%d", os.Getpid())
	for _, dir := range []string{"/var/tmp", "/dev/shm", home} {
		p := filepath.Join(dir, marker)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(p)
	}
	// Where other people's files live (a share, a USB disk): a linked
	// picture in an RTF is read as the document loads. Only where this
	// user may write there (root, in CI).
	for _, dir := range []string{"/mnt", "/media", "/srv"} {
		p := filepath.Join(dir, marker)
		if err := os.WriteFile(p, nil, 0o600); err == nil {
			defer os.Remove(p)
		}
	}
	report := func(iso office.Isolation) string {
		c, err := office.New(office.Options{Program: fake, Isolation: iso})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		out, err := c.Convert(context.Background(), []byte("a document"), ".docx")
		if err != nil {
			t.Fatalf("%s: %v", iso, err)
		}
		return string(out)
	}
	strong := report(office.Auto)
	t.Logf("strongest sandbox:\n%s", strong)
	if c, _ := office.New(office.Options{Program: fake}); c != nil {
		iso, _ := c.Isolation(context.Background())
		c.Close()
		if !iso.NoNetwork() || !iso.RAMBacked() {
			t.Skipf("namespaces are refused here (%s): nothing to confine", iso)
		}
	}
	confined := func(iso string, report string) {
		if !strings.Contains(report, "repository: read-only") {
			t.Errorf("%s: the converter can write to the repository's disk", iso)
		}
		if strings.Contains(report, marker) {
			t.Errorf("%s: the converter sees files in /var/tmp, /dev/shm, the home folder, /mnt, /media or /srv", iso)
		}
		if ifs := strings.Fields(strings.TrimPrefix(line(report, "interfaces:"), "interfaces:")); len(ifs) != 1 || ifs[0] != "lo" {
			t.Errorf("%s: the converter sees network interfaces %q, want only lo", iso, ifs)
		}
		// A converter taken over cannot undo the sandbox: it ran as
		// root of the namespace with every capability, and remounted
		// the disk writable or unmounted the tmpfs over the home folder.
		if l := line(report, "capabilities:"); l != "capabilities: 0000000000000000" {
			t.Errorf("%s: the converter has %q", iso, l)
		}
		if l := line(report, "remount-rw:"); l != "remount-rw: refused" {
			t.Errorf("%s: the converter's attempt to make / writable: %q", iso, l)
		}
		if l := line(report, "hidden:"); l == "hidden: none" || line(report, "unhide:") != "unhide: refused" {
			t.Errorf("%s: the converter's attempt to unmount a hiding tmpfs: %q %q", iso, l, line(report, "unhide:"))
		}
		if n, _ := strconv.Atoi(strings.TrimPrefix(line(report, "processes:"), "processes: ")); n == 0 || n > 8 {
			t.Errorf("%s: the converter sees %d processes, want its sandbox's few", iso, n)
		}
	}
	confined("strongest", strong)
	// The sandbox's mounts stay in its own namespace.
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err == nil && strings.Contains(string(mi), " coffer") {
		t.Errorf("the sandbox's tmpfs mounts reached this mount namespace:\n%s", mi)
	}
	if os.Geteuid() == 0 { // the fallback for root where user namespaces are refused
		confined("as root without a user namespace", report(office.RootNamespaces))
	}
	weak := report(office.SharedMemory)
	if !strings.Contains(weak, "repository: writable") || !strings.Contains(weak, marker) {
		t.Errorf("control: the /dev/shm fallback should see the host's files as they are:\n%s", weak)
	}
	if host, err := os.ReadFile("/proc/net/dev"); err == nil && strings.Count(string(host), "\n") > 3 &&
		len(strings.Fields(line(weak, "interfaces:"))) < 3 {
		t.Errorf("control: the host has more than a loopback interface, the /dev/shm fallback should see them:\n%s", weak)
	}
}

func line(report, prefix string) string {
	for _, l := range strings.Split(report, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestFallbackFolderIsWatched is the control of the plaintext watch the
// app's tests rely on (testdocs.WatchFor), and a check of the /dev/shm
// fallback: converting a document whose parts are stored uncompressed,
// the watch sees its text in the fallback's private folder while the
// conversion runs, nowhere else, and the folder is gone after.
func TestFallbackFolderIsWatched(t *testing.T) {
	marker := fmt.Sprintf("COFFERSHM%d", time.Now().UnixNano())
	docx := testdocs.Stored(t, testdocs.Text(t, ".docx", 20, marker))
	c := converter(t, office.Options{Isolation: office.SharedMemory, CacheBytes: -1})
	w := testdocs.WatchFor(t, testdocs.Writable(), testdocs.Needles(marker)...)
	if _, err := c.Convert(context.Background(), docx, ".docx"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	hits, read := w.Stop()
	t.Logf("%d files read; held the text: %q", read, hits)
	if len(hits) == 0 {
		t.Fatal("the watch did not see the document in the fallback's folder")
	}
	for _, h := range hits {
		if !strings.HasPrefix(h, "/dev/shm/coffer-office-") {
			t.Errorf("%s holds the document's text", h)
		}
		if _, err := os.Stat(h); !os.IsNotExist(err) {
			t.Errorf("%s is still there: %v", h, err)
		}
	}
}

// TestPublicDocuments converts documents made by Word, PowerPoint and
// LibreOffice for pandoc (testdata/public/SOURCES.md): the pages and the
// text each holds come through.
func TestPublicDocuments(t *testing.T) {
	c := converter(t, office.Options{})
	for _, tc := range []struct {
		name  string
		pages map[int][]string // page → text on it
	}{
		{"pandoc-reference.docx", map[int][]string{1: {"Heading 1", "First Paragraph.", "Block Text.", "Table caption."}}},
		{"pandoc-reference.pptx", map[int][]string{1: {"Presentation Title"}, 2: {"Hello, world."}, 3: {"Some explanatory text"}, 4: {"Some content on the right."}}},
		{"pandoc-reference.odt", map[int][]string{1: {"Hello World!"}}},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "public", tc.name))
		if err != nil {
			t.Fatal(err)
		}
		pdf, err := c.Convert(context.Background(), data, filepath.Ext(tc.name))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if n := pages(t, pdf); n != len(tc.pages) {
			t.Errorf("%s: %d pages, want %d", tc.name, n, len(tc.pages))
		}
		for page, want := range tc.pages {
			text := strings.Join(strings.Fields(pageText(t, pdf, page)), " ")
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("%s page %d lacks %q: %q", tc.name, page, w, text)
				}
			}
		}
	}
}

// TestSandboxHasNoTerminal: Coffer started from a terminal (the test
// runs itself again with a pseudo-terminal as its controlling terminal)
// gives the converter none, and hides the pseudo-terminals: a converter
// taken over pushed a command into the user's shell with TIOCSTI, which
// ran it after Coffer exited, outside every sandbox.
func TestSandboxHasNoTerminal(t *testing.T) {
	fake, err := filepath.Abs("testdata/fake-soffice")
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("COFFER_TEST_CTTY") == "1" {
		c, err := office.New(office.Options{Program: fake})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		out, err := c.Convert(context.Background(), []byte("a document"), ".docx")
		if err != nil {
			t.Fatal(err)
		}
		iso, _ := c.Isolation(context.Background())
		fmt.Printf("isolation: %s\n%s\n", iso, line(string(out), "terminal:"))
		return
	}
	_, pts := testenv.PTY(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSandboxHasNoTerminal$", "-test.count=1")
	cmd.Env = append(os.Environ(), "COFFER_TEST_CTTY=1")
	cmd.Stdin = pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	t.Logf("%s", out)
	iso, term := line(string(out), "isolation:"), line(string(out), "terminal:")
	if term == "" {
		t.Fatalf("no report: %s", out)
	}
	if !strings.HasPrefix(term, "terminal: 0 ") {
		t.Errorf("the converter has a controlling terminal: %q", term)
	}
	if strings.Contains(iso, "namespace") && strings.TrimSpace(strings.TrimPrefix(term[strings.Index(term, "pts:"):], "pts:")) != "" {
		t.Errorf("the converter sees pseudo-terminals: %q", term)
	}
}
