//go:build unix

package app

import (
	"os"
	"syscall"

	"github.com/coffer-vault/coffer/vault"
)

// fingerprint returns the state of a source file, and false where the
// platform does not give enough to trust it.
func fingerprint(st os.FileInfo) (vault.Fingerprint, bool) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return vault.Fingerprint{}, false
	}
	return vault.Fingerprint{Size: st.Size(), MTime: st.ModTime().UnixNano(),
		CTime: changeTime(sys), Inode: sys.Ino, Dev: uint64(sys.Dev)}, true
}
