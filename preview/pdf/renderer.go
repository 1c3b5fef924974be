// Package pdf renders pages of PDF documents to images, in process, for
// previews in the vault.
//
// It owns the PDFium sandbox: PDFium compiled to WebAssembly (shipped inside
// the github.com/klippa-app/go-pdfium module) and run by the wazero runtime,
// so no system library and no subprocess is involved. The package decides
// what that sandbox may touch and how long and how large any work in it may
// get:
//
//   - no host filesystem is mounted into the sandbox (go-pdfium mounts the
//     host root "/" by default; this package always passes an empty
//     wazero.FSConfig), no environment variables are passed, and the
//     sandbox's stdout and stderr are discarded;
//   - PDF bytes are handed over in memory and are never written to disk;
//   - every document gets a fresh WebAssembly instance that is destroyed when
//     the document is closed, so no state (and no decrypted content) is
//     shared between documents;
//   - every call is bounded by Options.Timeout (the instance is killed when it
//     expires), every instance's memory by a fixed limit, and every render by
//     Options.MaxPixels;
//   - panics from the library are recovered here and returned as errors;
//   - the compiled module (native code) is cached on disk only sealed with
//     a key the caller holds, Options.CacheKey, and checked before wazero
//     loads it (see cache.go); without one it is compiled in memory.
//
// Password-protected documents are refused with ErrPassword: the vault does
// not hand document passwords to the previewer.
package pdf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrNotPDF reports input that is not a PDF at all: empty, or without a
	// "%PDF-" header in its first 1024 bytes.
	ErrNotPDF = errors.New("not a PDF document")
	// ErrCorrupt reports input that looks like a PDF but cannot be used:
	// truncated (no "%%EOF" in its last 1024 bytes), unparsable, or without
	// pages.
	ErrCorrupt = errors.New("corrupt or truncated PDF document")
	// ErrPassword reports an encrypted document that cannot be opened
	// without a password (or that uses an unsupported security handler).
	ErrPassword = errors.New("PDF document is password-protected")
	// ErrPageRange reports a page index outside [0, PageCount()).
	ErrPageRange = errors.New("page index out of range")
	// ErrTooLarge reports a render or an input that exceeds the configured
	// limits.
	ErrTooLarge = errors.New("exceeds size limit")
	// ErrClosed reports use of a closed Renderer or Document, or of a
	// Document whose sandbox was killed after a timeout.
	ErrClosed = errors.New("closed")
)

const (
	// DefaultTimeout is the per-call time limit when Options.Timeout is 0.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxPixels is the render size limit when Options.MaxPixels is 0.
	DefaultMaxPixels = 40_000_000

	// maxOpenDocuments is how many documents (sandbox instances) a Renderer
	// keeps open at once; Open waits, within its timeout, for a free one.
	maxOpenDocuments = 8
	// memoryLimitPages caps each sandbox's linear memory at 1 GiB (64 KiB
	// pages) instead of wazero's default of 4 GiB.
	memoryLimitPages = 16384
	// maxInputBytes is the largest PDF accepted; its copy has to fit in the
	// sandbox's memory next to PDFium's own allocations.
	maxInputBytes = 256 << 20
)

// Options configures a Renderer. The zero value is usable.
type Options struct {
	// CacheDir is a folder for the compiled PDFium module (native code,
	// about 22 MB; no document data), so that a later NewRenderer, also in
	// another process, loads it in tens of milliseconds instead of
	// compiling for seconds. It needs CacheKey (or Starting.Finish's key).
	// "" compiles in memory and writes nothing.
	CacheDir string
	// CacheKey authenticates the files in CacheDir (HMAC-SHA-256): it must
	// be CacheKeySize random bytes that whoever can write CacheDir cannot
	// read, such as a key derived from the vault's passphrase-protected
	// secret. A file that fails the check is never loaded (see cache.go).
	CacheKey []byte
	// Timeout bounds every call into the sandbox (Open, PageSize, Render).
	// 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxPixels is the largest width × height Render produces. 0 means
	// DefaultMaxPixels.
	MaxPixels int
}

// Renderer owns the compiled PDFium module and a bounded pool of sandbox
// instances. It is safe for concurrent use; Close it when done.
type Renderer struct {
	pool      pdfium.Pool
	cache     wazero.CompilationCache // nil when compiled in memory
	timeout   time.Duration
	maxPixels int

	mu     sync.Mutex
	closed bool
}

// NewRenderer compiles (or loads from Options.CacheDir) the PDFium module.
// ctx is checked before the work starts; compilation itself cannot be
// interrupted. The Renderer does not keep ctx. A cache that cannot be read
// or written costs a compilation, never an error.
func NewRenderer(ctx context.Context, opts Options) (*Renderer, error) {
	return newRenderer(ctx, opts, sandboxFSConfig(), testHooks{})
}

// Starting is a Renderer being started by Start.
type Starting struct {
	keyed     chan struct{} // closed by Finish or Abandon
	giveOnce  sync.Once
	key       []byte
	abandoned bool

	done chan struct{} // closed when the start is over
	r    *Renderer
	err  error
}

// Start begins what NewRenderer does on another goroutine and returns at
// once; Finish gives the cache key, which Options.CacheKey may leave out,
// and returns the Renderer. What needs no key is done meanwhile: the
// runtime is made and the PDFium module decoded and validated, about 60
// ms, so that a command can start PDFium while the passphrase unlocks the
// vault (whose secret the key comes from). Nothing from the cache folder
// reaches wazero before Finish's key has checked it. A Starting must end
// in Finish or Abandon.
func Start(ctx context.Context, opts Options) *Starting {
	return start(ctx, opts, sandboxFSConfig(), testHooks{})
}

// Finish gives the cache key (nil when Options had one, or has no
// CacheDir) and returns the started Renderer.
func (s *Starting) Finish(key []byte) (*Renderer, error) {
	s.give(key, false)
	<-s.done
	return s.r, s.err
}

// Abandon ends a start whose key will not come and waits until what it
// made is gone. Abandon after Finish does nothing.
func (s *Starting) Abandon() {
	s.give(nil, true)
	<-s.done
}

func (s *Starting) give(key []byte, abandon bool) {
	s.giveOnce.Do(func() {
		s.key, s.abandoned = key, abandon
		close(s.keyed)
	})
}

// cacheKey returns the key once given, and false if the start was
// abandoned.
func (s *Starting) cacheKey() ([]byte, bool) {
	<-s.keyed
	return s.key, !s.abandoned
}

func newRenderer(ctx context.Context, opts Options, fsConfig wazero.FSConfig, hooks testHooks) (*Renderer, error) {
	return start(ctx, opts, fsConfig, hooks).Finish(opts.CacheKey)
}

// errAbandoned ends a start that Abandon ended.
var errAbandoned = errors.New("pdf: new renderer: abandoned")

func start(ctx context.Context, opts Options, fsConfig wazero.FSConfig, hooks testHooks) *Starting {
	s := &Starting{keyed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.r, s.err = s.run(ctx, opts, fsConfig, hooks)
	}()
	return s
}

// checkOptions checks opts and, once it is given, the cache key.
func checkOptions(opts Options, key []byte, keyed bool) error {
	if opts.Timeout < 0 || opts.MaxPixels < 0 {
		return fmt.Errorf("pdf: new renderer: negative Timeout (%v) or MaxPixels (%d)", opts.Timeout, opts.MaxPixels)
	}
	if (opts.CacheKey != nil || (keyed && (opts.CacheDir != "" || key != nil))) && len(key) != CacheKeySize {
		return fmt.Errorf("pdf: new renderer: a CacheDir needs a CacheKey of %d bytes (it has %d): compiled code read back from disk must be authenticated; set neither to compile in memory",
			CacheKeySize, len(key))
	}
	if opts.CacheDir == "" && key != nil {
		return errors.New("pdf: new renderer: a CacheKey without a CacheDir; set both, or neither to compile in memory")
	}
	return nil
}

func (s *Starting) run(ctx context.Context, opts Options, fsConfig wazero.FSConfig, hooks testHooks) (r *Renderer, err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pdf: new renderer: %w", err)
	}
	if err := checkOptions(opts, opts.CacheKey, false); err != nil {
		return nil, err
	}
	if fsConfig == nil {
		return nil, errors.New("pdf: new renderer: nil filesystem config would mount the host root")
	}
	// Finish's key is checked before anything from the cache is used.
	keyChecked := func() ([]byte, bool, error) {
		key, ok := s.cacheKey()
		if !ok {
			return nil, false, errAbandoned
		}
		if key == nil {
			key = opts.CacheKey
		}
		if err := checkOptions(opts, key, true); err != nil {
			return nil, false, err
		}
		return key, true, nil
	}
	r = &Renderer{timeout: opts.Timeout, maxPixels: opts.MaxPixels}
	if r.timeout == 0 {
		r.timeout = DefaultTimeout
	}
	if r.maxPixels == 0 {
		r.maxPixels = DefaultMaxPixels
	}
	cacheErr := func(err error) {
		if hooks.cacheErr != nil {
			hooks.cacheErr(err)
		}
	}

	var sealed *sealedCache
	var names map[string]bool // of the sealed files, under any key
	fed := false
	if opts.CacheDir != "" {
		// wazero reads and writes only the private folder of checked files.
		sealed, err = newSealedCache(opts.CacheDir)
		if err == nil {
			defer sealed.Close()
			names, err = sealed.candidates()
		}
		if err == nil && !hooks.noPipes {
			if fed, err = sealed.startFeeds(names, s.keyed, func() ([]byte, bool) {
				key, ok, _ := keyChecked()
				return key, ok
			}); err != nil {
				fed = false
				sealed.removeFeeds()
			}
		}
		cacheErr(err)
		if sealed != nil && names == nil {
			sealed.Close()
			sealed = nil
		}
	}
	init := func() error {
		r.cache = nil
		rc := runtimeConfig()
		if sealed != nil {
			cache, err := wazero.NewCompilationCacheWithDir(sealed.stage)
			if cacheErr(err); err == nil {
				r.cache, rc = cache, rc.WithCompilationCache(cache)
			}
		}
		err := guard("new renderer", func() error {
			var initErr error
			r.pool, initErr = webassembly.Init(webassembly.Config{
				// The pool outlives this call: keep ctx's values, not its
				// cancellation. Its instances' memory: memoryAllocator.
				Context:       experimental.WithMemoryAllocator(context.WithoutCancel(ctx), memoryAllocator()),
				MinIdle:       0,
				MaxIdle:       1,
				MaxTotal:      maxOpenDocuments,
				FSConfig:      fsConfig,
				RuntimeConfig: rc,
				Stdout:        io.Discard,
				Stderr:        io.Discard,
				// A closed instance's module is destroyed, never reused.
				ReuseWorkers: false,
			})
			return initErr
		})
		if err != nil && r.cache != nil {
			err = errors.Join(err, r.cache.Close(context.Background()))
			r.cache = nil
		}
		return err
	}

	if !fed {
		// Without pipes the key comes first: the checked files are
		// written to the private folder before wazero looks. (With no
		// sealed file PDFium is compiled, for seconds that cannot be
		// interrupted: not before the key says the start is wanted.)
		key, _, kerr := keyChecked()
		if kerr != nil {
			return nil, kerr
		}
		if len(names) > 0 {
			serr := sealed.setKey(key)
			if serr == nil {
				serr = sealed.stageFiles()
			}
			cacheErr(serr)
		}
		err = init()
	} else {
		err = init()
		sealed.stopFeeds()
		if _, _, kerr := keyChecked(); err != nil && kerr == nil && sealed.starved() {
			// wazero read an empty file where a sealed one was missing
			// or failed its check, and refused it: compile anew.
			cacheErr(sealed.removeFeeds())
			err = init()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("pdf: new renderer: %w", err)
	}
	if _, _, kerr := keyChecked(); kerr != nil {
		// Started (compiled: nothing came from the cache), but abandoned
		// or with a wrong key: nothing is sealed, nothing kept.
		return nil, errors.Join(kerr, r.Close())
	}
	if sealed != nil && r.cache != nil {
		key, _, _ := keyChecked()
		if hooks.staged != nil {
			hooks.staged(sealed.stagedNames())
		}
		err := sealed.setKey(key)
		if err == nil {
			err = sealed.save()
		}
		cacheErr(err)
	}
	return r, nil
}

// runtimeConfig is the wazero configuration of every Renderer. The bundled
// module lowers setjmp/longjmp to exception handling, so that feature is
// required. CloseOnContextDone lets a timeout kill a call that is stuck
// inside PDFium.
func runtimeConfig() wazero.RuntimeConfig {
	return wazero.NewRuntimeConfig().
		WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(memoryLimitPages)
}

// testHooks let tests see what the cache did; NewRenderer sets none.
type testHooks struct {
	staged   func(files []string) // names of the cache files handed to wazero
	cacheErr func(error)          // each error of the cache, or nil
	noPipes  bool                 // stage regular files even where pipes work
}

// sandboxFSConfig is the filesystem given to every sandbox instance: an
// explicit, empty configuration, so nothing from the host is mounted. (A nil
// FSConfig would make go-pdfium mount the host root.)
func sandboxFSConfig() wazero.FSConfig {
	return wazero.NewFSConfig()
}

// Close releases the sandbox pool, including the instances of documents
// that are still open (their methods then return ErrClosed). It is safe to
// call more than once.
func (r *Renderer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	err := guard("close renderer", r.pool.Close)
	if r.cache != nil {
		err = errors.Join(err, r.cache.Close(context.Background()))
	}
	if err != nil {
		return fmt.Errorf("pdf: close renderer: %w", err)
	}
	return nil
}

func (r *Renderer) isClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

// guard runs fn and turns a panic into an error.
func guard(op string, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("pdf: %s: panic in PDFium binding: %v", op, p)
		}
	}()
	return fn()
}
