// Package office turns word-processing documents, presentations and
// spreadsheets that Coffer cannot draw itself (.docx, .doc, .odt, .rtf,
// .pptx, .ppt, .odp, .ods, .xls) into PDF with LibreOffice, so that package
// preview renders and watermarks them like any PDF.
//
// It owns the converter's sandbox. LibreOffice is a large C++ program fed
// untrusted documents, so it runs as a separate process, one per
// conversion, and this package decides what that process may touch:
//
//   - the document goes to it on a pipe and the PDF comes back on another;
//     both, and LibreOffice's profile (-env:UserInstallation, written fresh
//     for every conversion with macros disabled, see profile.go), live in a
//     private folder in RAM: on Linux a tmpfs mounted in the converter's own
//     mount namespace, which the kernel frees when the converter exits, even
//     if Coffer is killed; where namespaces are refused, a 0700 folder in
//     /dev/shm that is removed after the conversion and, should Coffer
//     crash, at the next start (RemoveStale);
//   - on Linux it runs in its own user, mount, PID, network and IPC
//     namespaces where the kernel allows: no network at all (not even
//     loopback), the root filesystem read-only, and /tmp, /var/tmp,
//     /dev/shm, the runtime folder and the home folder replaced by empty
//     private folders (see sandbox_linux.go for the modes and fallbacks);
//   - every conversion is bounded in time (Options.Timeout) and memory
//     (Options.MaxMemory), and killed, with every process it started, at
//     the limit; the PDF it returns is bounded by Options.MaxOutput;
//   - converted PDFs are cached in memory only (Options.CacheBytes), never
//     on disk; Close drops them.
//
// Password-protected documents are refused with ErrPassword before
// LibreOffice sees them (the vault never hands over document passwords),
// and documents LibreOffice cannot open with ErrCannotOpen.
//
// On Windows and macOS an installed LibreOffice is used the same way, but
// without namespaces or a RAM folder: its folder is in the user's temp
// folder, on disk, and Isolation.RAMBacked reports false so that the caller
// can refuse documents whose plaintext must never reach a disk.
package office

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Errors callers test with errors.Is.
var (
	// ErrNotInstalled reports that no LibreOffice was found.
	ErrNotInstalled = errors.New("install LibreOffice to preview Office documents")
	// ErrPassword reports a password-protected document.
	ErrPassword = errors.New("the document is password-protected")
	// ErrCannotOpen reports a document LibreOffice cannot read.
	ErrCannotOpen = errors.New("LibreOffice cannot open the document")
	// ErrTimeout reports a conversion stopped at Options.Timeout.
	ErrTimeout = errors.New("the conversion took too long and was stopped")
	// ErrMemory reports a conversion stopped at Options.MaxMemory.
	ErrMemory = errors.New("the conversion used too much memory and was stopped")
	// ErrTooLarge reports a document or a PDF larger than the limits.
	ErrTooLarge = errors.New("too large to convert")
	// ErrFormat reports a file name extension this package does not convert.
	ErrFormat = errors.New("not a format LibreOffice previews are made of")
	// ErrClosed reports use of a closed Converter.
	ErrClosed = errors.New("the converter is closed")
	// ErrSandbox reports that no sandbox could be set up for the converter.
	ErrSandbox = errors.New("the converter's sandbox could not be set up")
)

// Formats are the file name extensions (lower case, with the dot) Convert
// accepts: Word, PowerPoint and OpenDocument text and presentations, RTF,
// and the spreadsheets excelize cannot read (OpenDocument, Excel 97-2003).
var formats = []string{
	".docx", ".docm", ".dotx", ".doc", ".dot", ".odt", ".ott", ".fodt", ".rtf",
	".pptx", ".pptm", ".ppsx", ".ppt", ".pps", ".odp", ".otp", ".fodp",
	".ods", ".fods", ".xls",
}

// Supported reports whether Convert accepts documents named with ext (a
// file name extension such as ".docx", in any case).
func Supported(ext string) bool { return slices.Contains(formats, strings.ToLower(ext)) }

// Defaults of Options.
const (
	DefaultTimeout    = 60 * time.Second
	DefaultMaxMemory  = 1 << 30   // bytes resident, over all the converter's processes
	DefaultMaxInput   = 256 << 20 // bytes
	DefaultMaxOutput  = 256 << 20 // bytes of PDF
	DefaultCacheBytes = 256 << 20 // bytes of PDF kept in memory
)

// Options tune a Converter. The zero value finds LibreOffice and uses the
// defaults above.
type Options struct {
	// Program is LibreOffice's soffice (or soffice.bin, soffice.com) to
	// run; "" looks for an installed LibreOffice (see Find).
	Program string
	// Timeout bounds one conversion, from the start of the process to the
	// last byte of the PDF.
	Timeout time.Duration
	// MaxMemory bounds the memory the converter's processes hold together
	// (resident set, in bytes; the private folder counts too, as it is
	// sized to at most MaxInput + MaxOutput plus the profile).
	MaxMemory int64
	// MaxInput and MaxOutput bound the document and the PDF, in bytes.
	MaxInput, MaxOutput int64
	// CacheBytes bounds the converted PDFs kept in memory; negative keeps
	// none.
	CacheBytes int64
	// Isolation chooses the sandbox: Auto (the zero value) takes the
	// strongest this system allows; another mode is used as it is or
	// fails with ErrSandbox (tests use this to exercise fallbacks).
	Isolation Isolation
}

// Converter converts documents to PDF with one LibreOffice installation.
// It is safe for concurrent use; conversions run one at a time (each
// takes one LibreOffice process of a few hundred MB). Close it when done.
type Converter struct {
	product Product
	opts    Options
	run     chan struct{} // a token per conversion allowed at once

	mu       sync.Mutex
	closed   bool
	isolated Isolation // the probed sandbox, once known
	cache    *pdfCache
	inflight map[[sha256.Size]byte]*call
	cancel   map[*call]context.CancelFunc // conversions running, to stop at Close
}

// call is one conversion, and the callers waiting for it: when the last
// of them gives up, it is stopped.
type call struct {
	done    chan struct{}
	waiters int  // under Converter.mu
	stopped bool // under Converter.mu: cancelled, its result is not wanted
	pdf     []byte
	err     error
}

// New finds LibreOffice (opts.Program, or an installed one) and returns a
// Converter for it, or ErrNotInstalled. Nothing runs until Convert.
func New(opts Options) (*Converter, error) {
	p, err := Find(opts.Program)
	if err != nil {
		return nil, err
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxMemory <= 0 {
		opts.MaxMemory = DefaultMaxMemory
	}
	if opts.MaxInput <= 0 {
		opts.MaxInput = DefaultMaxInput
	}
	if opts.MaxOutput <= 0 {
		opts.MaxOutput = DefaultMaxOutput
	}
	if opts.CacheBytes == 0 {
		opts.CacheBytes = DefaultCacheBytes
	}
	c := &Converter{product: p, opts: opts, run: make(chan struct{}, 1),
		cache: newPDFCache(max(opts.CacheBytes, 0)), inflight: map[[sha256.Size]byte]*call{},
		cancel: map[*call]context.CancelFunc{}}
	return c, nil
}

// Product returns the LibreOffice the Converter runs.
func (c *Converter) Product() Product { return c.product }

// Isolation returns the sandbox conversions run in, probing the system
// the first time (a few milliseconds: one short process).
func (c *Converter) Isolation(ctx context.Context) (Isolation, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, ErrClosed
	}
	if c.isolated == Auto {
		iso, err := probe(ctx, c.product.Program, c.opts.Isolation)
		if err != nil {
			return 0, err
		}
		c.isolated = iso
	}
	return c.isolated, nil
}

// Convert returns data, a document whose file name ends in ext (".docx",
// see Supported), as PDF. A document converted before is served from
// memory. Errors wrap ErrPassword, ErrCannotOpen, ErrTimeout, ErrMemory,
// ErrTooLarge, ErrFormat, ErrSandbox or ErrClosed, with LibreOffice's own
// words where it gave any.
func (c *Converter) Convert(ctx context.Context, data []byte, ext string) ([]byte, error) {
	ext = strings.ToLower(ext)
	if !Supported(ext) {
		return nil, fmt.Errorf("%w: %q", ErrFormat, ext)
	}
	if int64(len(data)) > c.opts.MaxInput {
		return nil, fmt.Errorf("%w: the document is %d MiB, more than the %d MiB a conversion takes",
			ErrTooLarge, len(data)>>20, c.opts.MaxInput>>20)
	}
	if err := checkEncrypted(data); err != nil {
		return nil, err
	}
	key := sha256.Sum256(append([]byte(ext+"\x00"), data...))
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	if pdf, ok := c.cache.get(key); ok {
		c.mu.Unlock()
		return pdf, nil
	}
	cl, running := c.inflight[key]
	if !running || cl.stopped {
		cl = &call{done: make(chan struct{})}
		c.inflight[key] = cl
		cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c.cancel[cl] = cancel
		go c.convert(cctx, cl, key, data, ext)
	}
	cl.waiters++
	c.mu.Unlock()
	select {
	case <-cl.done:
		return cl.pdf, cl.err
	case <-ctx.Done():
		c.mu.Lock()
		if cl.waiters--; cl.waiters == 0 {
			if cancel, ok := c.cancel[cl]; ok {
				cl.stopped = true // nobody wants it any more
				cancel()
			}
		}
		c.mu.Unlock()
		return nil, ctx.Err()
	}
}

// convert runs one conversion, one at a time, and publishes it to cl.
func (c *Converter) convert(ctx context.Context, cl *call, key [sha256.Size]byte, data []byte, ext string) {
	defer func() {
		c.mu.Lock()
		if c.inflight[key] == cl {
			delete(c.inflight, key)
		}
		if cancel, ok := c.cancel[cl]; ok {
			cancel()
			delete(c.cancel, cl)
		}
		if cl.err == nil && !c.closed && !cl.stopped {
			c.cache.put(key, cl.pdf)
		}
		c.mu.Unlock()
		close(cl.done)
	}()
	select {
	case c.run <- struct{}{}:
		defer func() { <-c.run }()
	case <-ctx.Done():
		cl.err = ErrClosed
		return
	}
	iso, err := c.Isolation(ctx)
	if err != nil {
		cl.err = err
		return
	}
	cl.pdf, cl.err = c.runSandboxed(ctx, iso, data, ext)
}

// runSandboxed converts once in the sandbox iso and judges the result.
func (c *Converter) runSandboxed(ctx context.Context, iso Isolation, data []byte, ext string) ([]byte, error) {
	res, err := convertIn(ctx, iso, job{
		program: c.product.Program, data: data, ext: ext, profile: profileXCU,
		timeout: c.opts.Timeout, maxMemory: c.opts.MaxMemory, maxOutput: c.opts.MaxOutput,
	})
	if err != nil {
		return nil, err
	}
	switch {
	case res.killed == killedTime:
		return nil, fmt.Errorf("%w: LibreOffice did not finish within %s", ErrTimeout, c.opts.Timeout)
	case res.killed == killedMemory:
		return nil, fmt.Errorf("%w: LibreOffice used more than %d MiB", ErrMemory, c.opts.MaxMemory>>20)
	case res.killed == killedOutput:
		return nil, fmt.Errorf("%w: the PDF is larger than %d MiB", ErrTooLarge, c.opts.MaxOutput>>20)
	case ctx.Err() != nil:
		return nil, ErrClosed
	case res.status == statusNoPDF || len(res.pdf) == 0:
		return nil, fmt.Errorf("%w%s", ErrCannotOpen, said(res.stderr))
	case res.status != statusOK:
		return nil, fmt.Errorf("%w: LibreOffice stopped with %s%s", ErrCannotOpen, res.exit, said(res.stderr))
	case !bytes.HasPrefix(res.pdf, []byte("%PDF-")):
		return nil, fmt.Errorf("%w: LibreOffice wrote something that is not a PDF", ErrCannotOpen)
	}
	return res.pdf, nil
}

// said quotes the last line LibreOffice wrote to its error output, if any,
// skipping the line each conversion prints.
func said(stderr []byte) string {
	lines := strings.Split(strings.TrimSpace(string(stderr)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "convert ") || strings.HasPrefix(l, "coffer-sandbox:") {
			continue
		}
		if len(l) > 200 {
			l = l[:200] + "…"
		}
		return fmt.Sprintf(" (LibreOffice said: %q)", l)
	}
	return ""
}

// Close stops conversions in flight, drops the cached PDFs and makes every
// later Convert fail with ErrClosed. Conversions' folders are gone when it
// returns.
func (c *Converter) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.cache.clear()
	calls := make([]*call, 0, len(c.cancel))
	for cl, cancel := range c.cancel {
		cancel()
		calls = append(calls, cl)
	}
	c.mu.Unlock()
	for _, cl := range calls {
		<-cl.done
	}
	return nil
}

// Cached returns the bytes of PDF held in memory.
func (c *Converter) Cached() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cache.used
}

// workName is the name of the document in the private folder: fixed, so
// that neither a stored name nor its characters ever reach LibreOffice's
// command line.
func workName(ext string) string { return "document" + filepath.Ext("x"+ext) }
