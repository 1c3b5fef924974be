package vault

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/coffer-vault/coffer/vault/index"
)

// Errors of the storage under the vault, which callers test with
// errors.Is. Their text is what the user reads.
var (
	// ErrDiskFull: a write failed because the disk (or the user's quota)
	// holding the vault is full.
	ErrDiskFull = errors.New("the disk holding the vault is full")
	// ErrReadOnly: the vault cannot be written at all: read-only media, a
	// file system mounted read-only, a folder the user may not write.
	ErrReadOnly = errors.New("the vault is on read-only storage")
)

// lowSpace is how little free space, after an I/O error whose cause SQLite
// did not keep, says that the error was a full disk: SQLite writes in pages
// of 4 KiB and grows its shared-memory file by 32 KiB.
const lowSpace = 1 << 20

// storageError is an error the storage under the vault caused: kind
// (ErrDiskFull or ErrReadOnly) and the error as it happened.
type storageError struct {
	kind error
	err  error
}

func (e *storageError) Error() string   { return e.kind.Error() + " (" + e.err.Error() + ")" }
func (e *storageError) Unwrap() []error { return []error{e.kind, e.err} }

// storageErr returns err marked with ErrDiskFull or ErrReadOnly when the
// storage under dir caused it, else err as it is.
func storageErr(dir string, err error) error {
	if err == nil || errors.Is(err, ErrDiskFull) || errors.Is(err, ErrReadOnly) {
		return err
	}
	if kind := storageKind(dir, err); kind != nil {
		return &storageError{kind: kind, err: err}
	}
	return err
}

// storageErr is storageErr for this vault. A vault opened read-only
// (v.ro) reports SQLite's refusals to write as the reason it was opened
// so, whatever the storage says now.
func (v *Vault) storageErr(err error) error {
	err = storageErr(v.dir, err)
	if v.ro != nil && err != nil && !errors.Is(err, ErrDiskFull) && !errors.Is(err, ErrReadOnly) &&
		index.StorageFailure(err) != index.NotStorage {
		return &storageError{kind: roKind(v.ro), err: err}
	}
	return err
}

func roKind(ro error) error {
	if errors.Is(ro, ErrDiskFull) {
		return ErrDiskFull
	}
	return ErrReadOnly
}

// storageKind says whether err is the storage's refusal of a write, and
// which: the error numbers of a full disk or quota and of read-only media
// say so themselves; SQLite's I/O errors, and a permission denied, are
// judged by the storage as it is now.
func storageKind(dir string, err error) error {
	switch {
	case isDiskFull(err):
		return ErrDiskFull
	case isReadOnly(err):
		return ErrReadOnly
	}
	f := index.StorageFailure(err)
	switch {
	case f == index.Full:
		return ErrDiskFull
	case f == index.ReadOnly, f == index.IO, errors.Is(err, fs.ErrPermission):
		return probeStorage(dir)
	}
	return nil
}

// probeStorage says whether the storage under dir cannot be written
// (ErrReadOnly), has all but no space or no inode left (ErrDiskFull: SQLite
// cannot even make its shared-memory file), or neither (nil).
func probeStorage(dir string) error {
	st, err := statStorage(dir)
	switch {
	case err != nil:
		return nil
	case st.readOnly:
		return ErrReadOnly
	case st.free >= 0 && st.free < lowSpace, st.noInodes:
		return ErrDiskFull
	}
	return nil
}

// storage is what statStorage learns of the file system under a folder.
type storage struct {
	readOnly bool  // mounted read-only, or the folder is not writable by this user
	free     int64 // bytes this user may still write; -1 if unknown
	noInodes bool  // no file can be made: the file system's inodes are all used
}

// writableStorage returns nil if the vault's folder can be written, else
// an error wrapping ErrReadOnly that says why.
func writableStorage(dir string) error {
	st, err := statStorage(dir)
	if err != nil || !st.readOnly {
		return nil
	}
	return &storageError{kind: ErrReadOnly, err: fmt.Errorf("%s cannot be written", dir)}
}
