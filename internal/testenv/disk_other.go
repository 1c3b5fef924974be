//go:build !linux

package testenv

import "testing"

// Disk is a small file system of its own, mounted for one test (Linux
// only; elsewhere SmallDisk skips the test).
type Disk struct {
	Dir  string
	Kind string
}

// SmallDisk skips the test: mounting file systems is done on Linux only.
func SmallDisk(t testing.TB, size int64) *Disk {
	t.Skip("skipped: mounting a small file system is done on Linux only")
	return nil
}

// Free is not reached (SmallDisk skips).
func (d *Disk) Free() int64 { return 0 }

// Fill is not reached (SmallDisk skips).
func (d *Disk) Fill(leave int64) {}

// FillInodes is not reached (SmallDisk skips).
func (d *Disk) FillInodes() {}

// Unfill is not reached (SmallDisk skips).
func (d *Disk) Unfill() {}

// ReadOnly is not reached (SmallDisk skips).
func (d *Disk) ReadOnly(ro bool) {}

// ReadOnlyView skips the test: bind mounts are done on Linux only.
func ReadOnlyView(t testing.TB, dir string) string {
	t.Skip("skipped: a read-only bind mount is done on Linux only")
	return ""
}
