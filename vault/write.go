package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"
	"golang.org/x/sync/errgroup"

	"github.com/coffer-vault/coffer/vault/chunk"
	"github.com/coffer-vault/coffer/vault/index"
	"github.com/coffer-vault/coffer/vault/object"
	"github.com/coffer-vault/coffer/vault/store"
)

// PutOptions tune Put.
type PutOptions struct {
	// Progress, if set, is called from Put's goroutine with the number of
	// plaintext bytes read so far.
	Progress func(done int64)
	// Type overrides the media type guessed from the name and content.
	Type string
	// Base is the version the content was made from, when known (a file
	// exported or imported before and edited since). If the file has a
	// newer version by now, the content is kept as a conflict beside it
	// instead of becoming current over an edit it never saw.
	Base object.ID
}

// Version describes one version of a file.
type Version struct {
	ID           object.ID
	File         object.ID
	Folder       object.ID
	Seq          int
	Parent       object.ID
	Name         string
	Size         int64
	Type         string
	AuthorUser   string
	AuthorDevice object.ID
	Time         time.Time
	RestoredFrom int
	// Unchanged is set by Put when the content equals the current version,
	// in which case no version was added and the fields describe the head.
	Unchanged bool
	// Conflict is set by Put when the content was made from an older
	// version and was kept as a conflict beside the current one.
	Conflict bool
	// NewChunks and NewBytes count what Put had to store (not deduped).
	NewChunks int
	NewBytes  int64
}

// versionSealed is the sealed index column of a version row.
type versionSealed struct {
	Name         string    `json:"name"`
	Type         string    `json:"type"`
	AuthorUser   string    `json:"author_user"`
	AuthorDevice object.ID `json:"author_device"`
	RestoredFrom int       `json:"restored_from,omitempty"`
}

// Put stores the content of r as a new version of the file name in folder,
// creating the file if it does not exist. When Put returns nil, the version
// is durable. When it fails, what it stored is removed (at once, or by the
// next writer when other writers are busy): an error of the storage under
// the vault wraps ErrDiskFull or ErrReadOnly.
func (v *Vault) Put(ctx context.Context, folder Folder, name string, r io.Reader, opts PutOptions) (_ Version, err error) {
	if err := ValidateName(name); err != nil {
		return Version{}, fmt.Errorf("file %q: %w", name, err)
	}
	fk, err := v.folderKey(ctx, folder.ID, folder.Epoch)
	if err != nil {
		return Version{}, err
	}
	if err := v.checkCurrentEpoch(folder.ID, fk.epoch); err != nil {
		return Version{}, err
	}
	end, err := v.beginWrite(ctx)
	if err != nil {
		return Version{}, err
	}
	defer end(&err)
	sniff := &sniffer{}
	refs, stats, err := v.writeChunks(ctx, fk, io.TeeReader(r, sniff), opts.Progress)
	if err != nil {
		return Version{}, err
	}
	m := &Manifest{V: 1, Folder: folder.ID, Epoch: fk.epoch, Name: name, Size: stats.size, Type: opts.Type,
		AuthorDevice: v.device.Device, AuthorUser: v.user.Email, Chunks: refs}
	if m.Type == "" {
		m.Type = mediaType(name, sniff.buf)
	}
	ver, err := v.commitNext(ctx, folder, fk, m, opts.Base)
	ver.NewChunks, ver.NewBytes = stats.newChunks, stats.newBytes
	return ver, err
}

// maxCommitTries bounds how often a version is re-based on a head that
// other writers keep moving.
const maxCommitTries = 16

// commitNext records m as the next version of the file named m.Name,
// creating the file if needed. The head moves by compare-and-swap: when
// another writer (another process on this vault) moved it first, m is made
// again on the new head and tried again, so both edits land as versions.
// Content equal to the current version's adds nothing. With a base that
// is no longer the head, m becomes a conflict beside the head instead.
func (v *Vault) commitNext(ctx context.Context, folder Folder, fk *folderKey, m *Manifest, base object.ID) (Version, error) {
	mac := v.seal.nameMAC(folder.ID.String(), m.Name)
	for try := 1; ; try++ {
		file, err := v.idx.FileByMAC(ctx, folder.ID, mac)
		isNew := errors.Is(err, index.ErrNotFound)
		if err != nil && !isNew {
			return Version{}, err
		}
		m.ID, m.Time, m.Seq, m.Parent = object.NewRandomID(), v.now().UTC(), 1, object.ID{}
		if isNew {
			id := object.NewRandomID()
			file = index.File{ID: id, Origin: id, FolderID: folder.ID, NameMAC: mac}
		} else {
			if file, err = v.file(ctx, folder, m.Name); err != nil {
				return Version{}, err
			}
			head, err := v.headManifest(ctx, file)
			if err != nil {
				return Version{}, err
			}
			if m.RestoredFrom == 0 && sameContent(head, m) && head.Name == m.Name {
				ver := versionOf(head)
				ver.Unchanged = true
				return ver, nil
			}
			m.Seq, m.Parent = head.Seq+1, head.ID
			if !base.IsZero() && base != head.ID {
				return v.commitConflict(ctx, folder, file, fk, m, base)
			}
		}
		m.File = file.Origin
		ver, err := v.commit(ctx, file, fk, m)
		if (errors.Is(err, index.ErrHeadMoved) || errors.Is(err, index.ErrExists)) && try < maxCommitTries {
			// The manifest lost the race (commit removed it, so that it
			// is not mistaken later for a version the index forgot).
			continue
		}
		return ver, err
	}
}

// commitConflict records m as a child of base (an older version of file):
// a conflict beside the versions made since, laid out as its own line.
func (v *Vault) commitConflict(ctx context.Context, folder Folder, file index.File, fk *folderKey, m *Manifest, base object.ID) (Version, error) {
	b, err := v.idx.Version(ctx, base)
	if err != nil {
		return Version{}, fmt.Errorf("the version this content was made from is gone: %w", err)
	}
	m.File, m.Seq, m.Parent = file.Origin, b.Seq+1, base
	data, err := sealObject(object.KindManifest, m.ID, m, v.devKey, fk.recipient)
	if err != nil {
		return Version{}, err
	}
	if err := v.objects.Put(ctx, store.Handle{Kind: object.KindManifest, ID: m.ID}, data); err != nil {
		return Version{}, err
	}
	if err := v.objects.Sync(ctx); err != nil {
		v.discardManifest(ctx, m.ID)
		return Version{}, err
	}
	if err := v.layout(ctx, folder.ID, file.Origin, []*Manifest{m}, false); err != nil {
		v.discardManifest(ctx, m.ID)
		return Version{}, fmt.Errorf("record version: %w", err)
	}
	ver := versionOf(m)
	ver.Conflict = true
	return ver, nil
}

// Restore makes version seq of a file current again by adding a new version
// with its content. History is never rewritten.
func (v *Vault) Restore(ctx context.Context, folder Folder, name string, seq int) (_ Version, err error) {
	end, err := v.beginWrite(ctx)
	if err != nil {
		return Version{}, err
	}
	defer end(&err)
	file, err := v.file(ctx, folder, name)
	if err != nil {
		return Version{}, err
	}
	old, err := v.manifestBySeq(ctx, file, seq)
	if err != nil {
		return Version{}, err
	}
	fk, err := v.folderKey(ctx, folder.ID, old.Epoch)
	if err != nil {
		return Version{}, err
	}
	m := *old
	m.AuthorDevice, m.AuthorUser, m.RestoredFrom = v.device.Device, v.user.Email, seq
	return v.commitNext(ctx, folder, fk, &m, object.ID{})
}

// commit writes the manifest object and then the index rows. A manifest
// the index does not name when commit fails is removed.
func (v *Vault) commit(ctx context.Context, file index.File, fk *folderKey, m *Manifest) (_ Version, err error) {
	data, err := sealObject(object.KindManifest, m.ID, m, v.devKey, fk.recipient)
	if err != nil {
		return Version{}, err
	}
	if err := v.objects.Put(ctx, store.Handle{Kind: object.KindManifest, ID: m.ID}, data); err != nil {
		return Version{}, err
	}
	defer func() {
		if err != nil {
			v.discardManifest(ctx, m.ID)
		}
	}()
	// Every chunk and the manifest must be durable before the index names
	// them: this is the one barrier of the write order.
	if err := v.objects.Sync(ctx); err != nil {
		return Version{}, err
	}
	sealed, err := v.sealVersion(m)
	if err != nil {
		return Version{}, err
	}
	refs := make([]index.ChunkRef, len(m.Chunks))
	for i, c := range m.Chunks {
		refs[i] = index.ChunkRef{ID: c.ID, Size: c.Size}
	}
	row := index.Version{ID: m.ID, FileID: file.ID, Seq: m.Seq, Parent: m.Parent, Size: m.Size, Created: m.Time, Sealed: sealed}
	if err := v.idx.CommitVersion(ctx, file, row, m.Epoch, refs); err != nil {
		return Version{}, fmt.Errorf("record version: %w", err)
	}
	return versionOf(m), nil
}

// sealVersion seals the index column of a version row. The owner's e-mail
// as author is implied, not stored (see AppendAudit).
func (v *Vault) sealVersion(m *Manifest) ([]byte, error) {
	s := versionSealed{Name: m.Name, Type: m.Type, AuthorUser: m.AuthorUser, AuthorDevice: m.AuthorDevice, RestoredFrom: m.RestoredFrom}
	if s.AuthorUser == v.user.Email {
		s.AuthorUser = ""
	}
	return v.seal.sealJSON("version:"+m.ID.String(), s)
}

// openVersion opens the sealed column of a version row.
func (v *Vault) openVersion(row index.Version) (versionSealed, error) {
	var s versionSealed
	err := v.seal.openJSON("version:"+row.ID.String(), row.Sealed, &s)
	if err == nil && s.AuthorUser == "" {
		s.AuthorUser = v.user.Email
	}
	return s, err
}

func versionOf(m *Manifest) Version {
	return Version{ID: m.ID, File: m.File, Folder: m.Folder, Seq: m.Seq, Parent: m.Parent, Name: m.Name,
		Size: m.Size, Type: m.Type, AuthorUser: m.AuthorUser, AuthorDevice: m.AuthorDevice, Time: m.Time,
		RestoredFrom: m.RestoredFrom}
}

func sameContent(a, b *Manifest) bool {
	if a.Size != b.Size || a.Epoch != b.Epoch || len(a.Chunks) != len(b.Chunks) {
		return false
	}
	for i := range a.Chunks {
		if a.Chunks[i] != b.Chunks[i] {
			return false
		}
	}
	return true
}

type writeStats struct {
	size      int64
	newChunks int
	newBytes  int64
}

// Import reads its source in blocks of blockSize and cuts chunks in place
// in them; blocksInFlight blocks at most exist at once, which bounds an
// import's buffers at 32 MiB whatever the file size. A chunk still unfinished
// at the end of a block is copied to the start of the next one (on average
// about half a chunk per block, a few per cent of the data).
//
// There are workersPerCore workers per processor Go runs (GOMAXPROCS)
// because a worker waits for the disk while its chunk is written (with
// O_DIRECT, see store.Dir.PutFunc): about as long as it spent hashing and
// encrypting it. With one per processor, a core idles during every write.
// (`coffer import` also runs twice as many processors as cores, since Go
// counts a goroutine blocked in a write against them: 4 workers per core.)
//
// maxWorkers bounds the workers (and so their write buffers, 2 MiB each)
// whatever the machine: an import's memory stays flat.
const (
	blockSize      = 8 << 20
	blocksInFlight = 4
	workersPerCore = 2
	maxWorkers     = 16
)

// block is one buffer of source data; the chunks cut from it refer into it.
type block struct {
	buf  []byte
	refs atomic.Int32 // chunks in flight, plus one while the cutter holds it
}

func (b *block) Bytes() []byte { return b.buf }

// chunkJob is one chunk travelling from the cutter to a worker.
type chunkJob struct {
	idx  int
	data []byte
	blk  *block
}

// writeChunks splits r, names each chunk, and encrypts and stores the ones
// the folder does not have yet. The calling goroutine reads r in large
// blocks and cuts them; workers on every core name, encrypt and write the
// chunks straight from the blocks into their files, so a chunk's plaintext
// is copied only by the read and its ciphertext only by the write.
func (v *Vault) writeChunks(ctx context.Context, fk *folderKey, r io.Reader, progress func(int64)) ([]ManifestRef, writeStats, error) {
	known, err := v.idx.ChunkIDs(ctx, fk.folder, fk.epoch)
	if err != nil {
		return nil, writeStats{}, err
	}
	workers := min(runtime.GOMAXPROCS(0)*workersPerCore, maxWorkers)
	jobs := make(chan chunkJob, runtime.GOMAXPROCS(0))
	// A fixed set of blocks, made as needed and recycled, keeps memory flat
	// and the heap steady whatever the file size (a sync.Pool is emptied by
	// every GC, and refilling it costs page faults).
	blocks := newBufferRing(blocksInFlight, blockSize)
	// Every goroutine that could touch a block has returned when
	// writeChunks does (g.Wait below, on every path).
	defer blocks.close()
	release := func(b *block) {
		if b.refs.Add(-1) == 0 {
			blocks.put(b)
		}
	}
	var (
		mu       sync.Mutex
		refs     []ManifestRef
		stats    writeStats
		inflight = map[object.ID]bool{}
	)
	g, gctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			for job := range jobs {
				if gctx.Err() != nil {
					// Another worker failed: skip what is queued.
					release(job.blk)
					continue
				}
				id := fk.namer.ID(job.data)
				mu.Lock()
				refs[job.idx] = ManifestRef{ID: id, Size: int64(len(job.data))}
				_, have := known[id]
				skip := have || inflight[id]
				inflight[id] = true
				mu.Unlock()
				var err error
				if !skip {
					if err = v.putChunk(gctx, fk.recipient, id, job.data); err == nil {
						mu.Lock()
						stats.newChunks++
						stats.newBytes += int64(len(job.data))
						mu.Unlock()
					}
				}
				release(job.blk)
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	get := func() (*block, error) {
		b, err := blocks.get(gctx)
		if err == nil {
			b.refs.Store(1)
		}
		return b, err
	}
	cutErr := chunk.CutStream(fk.splitter, r, get, release, func(data []byte, blk *block) error {
		blk.refs.Add(1)
		mu.Lock()
		idx := len(refs)
		refs = append(refs, ManifestRef{})
		stats.size += int64(len(data))
		done := stats.size
		mu.Unlock()
		select {
		case jobs <- chunkJob{idx: idx, data: data, blk: blk}:
		case <-gctx.Done():
			release(blk)
			return gctx.Err()
		}
		if progress != nil {
			progress(done)
		}
		return nil
	})
	close(jobs)
	werr := g.Wait()
	if werr != nil {
		// A worker's failure cancels gctx, which the cutter reports too;
		// the worker's error is the cause.
		return nil, writeStats{}, werr
	}
	if cutErr != nil {
		return nil, writeStats{}, cutErr
	}
	return refs, stats, nil
}

// bufferRing hands out at most n blocks of a given size, made as needed
// outside the Go heap (chunk.NewBuffer), and frees them all at close.
type bufferRing struct {
	free  chan *block
	made  chan struct{} // one token per block that may still be made
	size  int
	mu    sync.Mutex
	frees []func()
}

func newBufferRing(n, size int) *bufferRing {
	r := &bufferRing{free: make(chan *block, n), made: make(chan struct{}, n), size: size}
	for range n {
		r.made <- struct{}{}
	}
	return r
}

func (r *bufferRing) get(ctx context.Context) (*block, error) {
	select {
	case b := <-r.free:
		return b, nil
	default:
	}
	select {
	case b := <-r.free:
		return b, nil
	case <-r.made:
		buf, free := chunk.NewBuffer(r.size)
		r.mu.Lock()
		r.frees = append(r.frees, free)
		r.mu.Unlock()
		return &block{buf: buf}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *bufferRing) put(b *block) { r.free <- b }

// close frees every block; nothing may use one after.
func (r *bufferRing) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, free := range r.frees {
		free()
	}
	r.frees = nil
}

// putChunk encrypts one chunk to the folder key straight into its object
// file.
func (v *Vault) putChunk(ctx context.Context, r age.Recipient, id object.ID, data []byte) error {
	return v.objects.PutFunc(ctx, store.Handle{Kind: object.KindChunk, ID: id}, func(dst io.Writer) error {
		if _, err := dst.Write(object.AppendHeader(nil, object.KindChunk, id)); err != nil {
			return err
		}
		w, err := age.Encrypt(dst, r)
		if err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
		return w.Close()
	})
}

// sniffer keeps the first 512 bytes that pass through it, for type detection.
type sniffer struct{ buf []byte }

func (s *sniffer) Write(p []byte) (int, error) {
	if n := 512 - len(s.buf); n > 0 {
		s.buf = append(s.buf, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

// mediaType guesses a media type from the name's extension, then content.
func mediaType(name string, head []byte) string {
	if t := mime.TypeByExtension(filepath.Ext(name)); t != "" {
		return t
	}
	if len(head) == 0 {
		return "application/octet-stream"
	}
	return http.DetectContentType(head)
}
