package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is wrapped when a path that should hold a file holds a
// directory, a named pipe, a socket or a device.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens path for reading if it is a regular file. It never
// blocks on a named pipe or device planted at the path: the file is opened
// without blocking (O_NONBLOCK where the system has it) and refused unless
// it is a regular file.
func OpenRegular(path string) (*os.File, fs.FileInfo, error) {
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() && st.Mode()&fs.ModeSymlink == 0 {
		return nil, nil, fmt.Errorf("%s is a %s, %w", path, fileKind(st.Mode()), ErrNotRegular)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openNoBlock, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is a %s, %w", path, fileKind(st.Mode()), ErrNotRegular)
	}
	if err := clearNoBlock(f); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// OpenOwnRegular opens path for writing if path itself is a regular file:
// unlike OpenRegular it never follows a symbolic link (an error wrapping
// ErrNotRegular), so what is written goes into the vault's own file and
// never into one a link planted in the vault points to, and it never
// blocks on a named pipe or device.
func OpenOwnRegular(path string) (*os.File, error) {
	f, _, err := openOwn(path, os.Lstat, os.OpenFile, os.O_WRONLY)
	return f, err
}

// OpenRegularIn opens name, a slash-separated path under root, for
// reading if it is a regular file there: never a symbolic link, at the
// end of name or on the way (os.Root refuses a folder that leads out of
// root; a link at the end is refused here), and never blocking on a named
// pipe or device. The file opened is the one examined (same device and
// inode), so one swapped in meanwhile is refused too; the error then
// wraps ErrNotRegular.
func OpenRegularIn(root *os.Root, name string) (*os.File, fs.FileInfo, error) {
	return openOwn(name, root.Lstat, root.OpenFile, os.O_RDONLY)
}

// openOwn opens name with flag through open if lstat says name itself is
// a regular file (a symbolic link is refused, wrapping ErrNotRegular),
// without blocking on a named pipe or device, and checks that the file
// opened is the one examined.
func openOwn(name string, lstat func(string) (fs.FileInfo, error), open func(string, int, fs.FileMode) (*os.File, error), flag int) (*os.File, fs.FileInfo, error) {
	st, err := lstat(name)
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		kind := fileKind(st.Mode())
		if st.Mode()&fs.ModeSymlink != 0 {
			kind = "symbolic link"
		}
		return nil, nil, fmt.Errorf("%s is a %s, %w", name, kind, ErrNotRegular)
	}
	f, err := open(name, flag|openNoBlock|openNoFollow, 0)
	if err != nil {
		return nil, nil, err
	}
	fst, err := f.Stat()
	if err == nil && (!fst.Mode().IsRegular() || !os.SameFile(st, fst)) {
		err = fmt.Errorf("%s changed while it was opened, %w", name, ErrNotRegular)
	}
	if err == nil {
		err = clearNoBlock(f)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fst, nil
}

// ReadRegular reads path, which must be a regular file of at most limit
// bytes.
func ReadRegular(path string, limit int64) ([]byte, error) {
	f, st, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, over the %d-byte limit", path, st.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("%s grew over the %d-byte limit", path, limit)
	}
	return b, err
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "folder"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0 || m&fs.ModeCharDevice != 0:
		return "device"
	}
	return "special file"
}
