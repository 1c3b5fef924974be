package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/coffer-vault/coffer/vault/index"
	"github.com/coffer-vault/coffer/vault/object"
)

// FileInfo describes a file and its current version.
type FileInfo struct {
	ID       object.ID
	Folder   object.ID
	Name     string
	Size     int64
	Type     string
	Modified time.Time
	Author   string
	Versions int
	Head     object.ID
	// Conflict is set for a conflict line, shown under its conflict name.
	Conflict bool
}

// Files lists the files of a folder from the index: one entry per line,
// conflict lines under their conflict names.
func (v *Vault) Files(ctx context.Context, folder Folder) ([]FileInfo, error) {
	rows, err := v.idx.Files(ctx, folder.ID)
	if err != nil {
		return nil, err
	}
	out := make([]FileInfo, 0, len(rows))
	for _, f := range rows {
		hist, err := v.history(ctx, f)
		if err != nil {
			return nil, err
		}
		head := hist[len(hist)-1]
		s, err := v.openVersion(head)
		if err != nil {
			return nil, err
		}
		name, err := v.displayName(f, head)
		if err != nil {
			return nil, err
		}
		out = append(out, FileInfo{ID: f.ID, Folder: folder.ID, Name: name, Size: head.Size, Type: s.Type,
			Modified: head.Created, Author: s.AuthorUser, Versions: len(hist), Head: head.ID, Conflict: f.Conflict() || f.Sealed != nil})
	}
	return out, nil
}

// Versions lists a file's versions, oldest first, from the index: for a
// conflict line, the versions it shares with the line it left, then its
// own.
func (v *Vault) Versions(ctx context.Context, folder Folder, name string) ([]Version, error) {
	file, err := v.file(ctx, folder, name)
	if err != nil {
		return nil, err
	}
	rows, err := v.history(ctx, file)
	if err != nil {
		return nil, err
	}
	out := make([]Version, 0, len(rows))
	for _, r := range rows {
		s, err := v.openVersion(r)
		if err != nil {
			return nil, err
		}
		out = append(out, Version{ID: r.ID, File: file.ID, Folder: folder.ID, Seq: r.Seq, Parent: r.Parent,
			Name: s.Name, Size: r.Size, Type: s.Type, AuthorUser: s.AuthorUser, AuthorDevice: s.AuthorDevice,
			Time: r.Created, RestoredFrom: s.RestoredFrom})
	}
	return out, nil
}

// file finds a file (a line) of a folder by name. The name MAC only finds
// the row; its sealed name must be the name asked for, so a MAC moved to
// another row in the index cannot hand out another file.
func (v *Vault) file(ctx context.Context, folder Folder, name string) (index.File, error) {
	f, err := v.idx.FileByMAC(ctx, folder.ID, v.seal.nameMAC(folder.ID.String(), name))
	if errors.Is(err, index.ErrNotFound) {
		return f, fmt.Errorf("no file %q in folder %q: %w", name, folder.Name, ErrNotFound)
	}
	if err != nil {
		return f, err
	}
	head, err := v.idx.Version(ctx, f.Head)
	if err != nil {
		return f, fmt.Errorf("%q in folder %q: current version missing from the index: %w", name, folder.Name, ErrDamaged)
	}
	shown, err := v.displayName(f, head)
	if err != nil {
		return f, err
	}
	if head.FileID != f.ID || !sameName(shown, name) {
		return f, fmt.Errorf("%q in folder %q: the index points the name at another file: %w", name, folder.Name, ErrTampered)
	}
	return f, nil
}

// sameName compares names as the name MACs do: in Unicode NFC.
func sameName(a, b string) bool { return norm.NFC.String(a) == norm.NFC.String(b) }

// Stat returns the current version of a file, read from its verified
// manifest.
func (v *Vault) Stat(ctx context.Context, folder Folder, name string) (Version, error) {
	file, err := v.file(ctx, folder, name)
	if err != nil {
		return Version{}, err
	}
	m, err := v.headManifest(ctx, file)
	if err != nil {
		return Version{}, err
	}
	return versionOf(m), nil
}

func (v *Vault) headManifest(ctx context.Context, file index.File) (*Manifest, error) {
	r, err := v.idx.Version(ctx, file.Head)
	if err != nil || r.FileID != file.ID {
		return nil, fmt.Errorf("file %s: current version missing from the index: %w", file.ID.String()[:12], ErrDamaged)
	}
	return v.manifest(ctx, file, r)
}

func (v *Vault) manifestBySeq(ctx context.Context, file index.File, seq int) (*Manifest, error) {
	rows, err := v.history(ctx, file)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.Seq == seq {
			return v.manifest(ctx, file, r)
		}
	}
	return nil, fmt.Errorf("no version %d (the file has %d): %w", seq, len(rows), ErrNotFound)
}

// manifest reads and verifies the manifest of an index version row and
// checks that it says what the index says.
func (v *Vault) manifest(ctx context.Context, file index.File, row index.Version) (*Manifest, error) {
	m, err := v.readManifest(ctx, file.FolderID, row.ID)
	if err != nil {
		return nil, err
	}
	if m.File != file.Origin || m.Seq != row.Seq || m.Parent != row.Parent || m.Size != row.Size {
		return nil, fmt.Errorf("manifest %s disagrees with the index: %w", row.ID.String()[:12], ErrTampered)
	}
	return m, nil
}

// readManifest reads, verifies and decodes a manifest of a folder. The key
// epoch is not known before decryption, so every epoch's key is offered.
func (v *Vault) readManifest(ctx context.Context, folder, id object.ID) (*Manifest, error) {
	ids, err := v.folderIdentities(ctx, folder)
	if err != nil {
		return nil, err
	}
	plain, signer, err := v.openObject(ctx, object.KindManifest, id, maxPayload, ids...)
	if err != nil {
		return nil, err
	}
	if err := v.checkFolderSigner(object.KindManifest, folder, signer); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", id.String()[:12], err)
	}
	m, err := ParseManifest(plain)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", id.String()[:12], err)
	}
	if m.ID != id || m.Folder != folder {
		return nil, fmt.Errorf("manifest %s was moved from another place: %w", id.String()[:12], ErrTampered)
	}
	return m, nil
}

// WriteTo writes the content of version seq of a file (0 for the current
// one) to w, verifying every chunk, its order and the total size. It returns
// the version written.
func (v *Vault) WriteTo(ctx context.Context, w io.Writer, folder Folder, name string, seq int) (Version, error) {
	file, err := v.file(ctx, folder, name)
	if err != nil {
		return Version{}, err
	}
	var m *Manifest
	if seq == 0 {
		m, err = v.headManifest(ctx, file)
	} else {
		m, err = v.manifestBySeq(ctx, file, seq)
	}
	if err != nil {
		return Version{}, err
	}
	if err := v.writeContent(ctx, w, m); err != nil {
		return Version{}, err
	}
	return versionOf(m), nil
}

func (v *Vault) writeContent(ctx context.Context, w io.Writer, m *Manifest) error {
	fk, err := v.folderKey(ctx, m.Folder, m.Epoch)
	if err != nil {
		return err
	}
	var written int64
	for i, ref := range m.Chunks {
		data, err := v.readChunk(ctx, fk, ref)
		if err != nil {
			return fmt.Errorf("chunk %d of %d: %w", i+1, len(m.Chunks), err)
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
		written += int64(len(data))
	}
	if written != m.Size {
		return fmt.Errorf("content is %d bytes, manifest says %d: %w", written, m.Size, ErrDamaged)
	}
	return nil
}

// readChunk reads, decrypts and verifies one chunk.
func (v *Vault) readChunk(ctx context.Context, fk *folderKey, ref ManifestRef) ([]byte, error) {
	data, _, err := v.openObject(ctx, object.KindChunk, ref.ID, ref.Size, fk.identity)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != ref.Size || fk.namer.ID(data) != ref.ID {
		return nil, fmt.Errorf("chunk %s content does not match its name: %w", ref.ID.String()[:12], ErrDamaged)
	}
	return data, nil
}
