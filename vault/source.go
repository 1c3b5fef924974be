package vault

import (
	"context"
	"errors"

	"github.com/coffer-vault/coffer/vault/index"
)

// Fingerprint identifies the state of a source file on the local disk.
// Equal fingerprints mean unchanged content for all practical purposes:
// ctime cannot be set by user programs, so a rewrite that restores the
// old mtime still changes it.
type Fingerprint struct {
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime"` // unix nanoseconds
	CTime int64  `json:"ctime"`
	Inode uint64 `json:"inode"`
	Dev   uint64 `json:"dev"`
}

func (v *Vault) sourceKey(folder Folder, path string) []byte {
	return v.seal.nameMAC("source:"+folder.ID.String(), path)
}

// UnchangedSource returns the current version of name if it was imported
// from path with this same fingerprint and is still current.
func (v *Vault) UnchangedSource(ctx context.Context, folder Folder, name, path string, fp Fingerprint) (Version, bool) {
	src, err := v.idx.GetSource(ctx, v.sourceKey(folder, path))
	if err != nil {
		return Version{}, false
	}
	var was Fingerprint
	if err := v.seal.openJSON("source:"+src.Version.String(), src.Sealed, &was); err != nil || was != fp {
		return Version{}, false
	}
	file, err := v.file(ctx, folder, name)
	if err != nil || file.ID != src.FileID || file.Head != src.Version {
		return Version{}, false
	}
	m, err := v.headManifest(ctx, file)
	if err != nil || m.Size != fp.Size {
		return Version{}, false
	}
	ver := versionOf(m)
	ver.Unchanged = true
	return ver, true
}

// RememberSource records that ver was imported from path in state fp.
func (v *Vault) RememberSource(ctx context.Context, folder Folder, path string, fp Fingerprint, ver Version) error {
	if ver.ID.IsZero() || ver.File.IsZero() {
		return errors.New("vault: remember source: no version")
	}
	sealed, err := v.seal.sealJSON("source:"+ver.ID.String(), fp)
	if err != nil {
		return err
	}
	return v.idx.PutSource(ctx, index.Source{Key: v.sourceKey(folder, path), FileID: ver.File, Version: ver.ID, Sealed: sealed})
}
