package pdf

import (
	"context"
	"path/filepath"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/tetratelabs/wazero"
)

// Test-only hooks into the sandbox.

// SandboxFSConfig is the filesystem configuration every Renderer gives its
// sandbox instances.
func SandboxFSConfig() wazero.FSConfig { return sandboxFSConfig() }

// RuntimeConfig is the wazero configuration every Renderer uses.
func RuntimeConfig() wazero.RuntimeConfig { return runtimeConfig() }

// NewRendererWithFS builds a Renderer whose sandboxes get fsConfig, so tests
// can compare against a sandbox that does have the host root mounted.
func NewRendererWithFS(ctx context.Context, opts Options, fsConfig wazero.FSConfig) (*Renderer, error) {
	return newRenderer(ctx, opts, fsConfig, testHooks{})
}

// NewRendererWatched builds a Renderer like NewRenderer and reports which
// cache files it handed to wazero, and every error of its cache.
func NewRendererWatched(ctx context.Context, opts Options, staged func([]string), cacheErr func(error)) (*Renderer, error) {
	return newRenderer(ctx, opts, sandboxFSConfig(), testHooks{staged: staged, cacheErr: cacheErr})
}

// LoadPathInSandbox asks PDFium, inside this document's sandbox instance, to
// open the file at path with FPDF_LoadDocument (which goes through WASI).
func (d *Document) LoadPathInSandbox(path string) error {
	return d.do(context.Background(), "load path", func(inst pdfium.Pdfium) error {
		resp, err := inst.FPDF_LoadDocument(&requests.FPDF_LoadDocument{Path: &path})
		if err != nil {
			return err
		}
		_, err = inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: resp.Document})
		return err
	})
}

// PageCountWithPassword opens data with a password in a fresh sandbox and
// returns its page count; tests use it to show that a generated encrypted
// PDF is well formed.
func (r *Renderer) PageCountWithPassword(ctx context.Context, data []byte, password string) (int, error) {
	inst, err := r.pool.GetInstanceWithContext(ctx)
	if err != nil {
		return 0, err
	}
	defer inst.Close()
	resp, err := inst.OpenDocument(&requests.OpenDocument{File: &data, Password: &password})
	if err != nil {
		return 0, err
	}
	count, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: resp.Document})
	if err != nil {
		return 0, err
	}
	return count.PageCount, nil
}

// NewRendererWatchedFiles is NewRendererWatched with the cache staged as
// regular files, as where there are no named pipes.
func NewRendererWatchedFiles(ctx context.Context, opts Options, staged func([]string), cacheErr func(error)) (*Renderer, error) {
	return newRenderer(ctx, opts, sandboxFSConfig(), testHooks{staged: staged, cacheErr: cacheErr, noPipes: true})
}

// SealCacheFile writes content into the cache folder dir as the sealed
// file rel (slash-separated, as wazero names it) under key, as a start
// would after compiling.
func SealCacheFile(dir string, key []byte, rel string, content []byte) error {
	c := &sealedCache{root: dir}
	if err := c.setKey(key); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(c.dir, filepath.FromSlash(rel)), append(c.tag(rel, content), content...))
}
