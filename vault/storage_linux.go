package vault

import "golang.org/x/sys/unix"

func statStorage(dir string) (storage, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return storage{}, err
	}
	// Files is 0 where the file system has no fixed count of inodes.
	return storage{readOnly: st.Flags&unix.ST_RDONLY != 0 || !writable(dir), free: int64(st.Bavail) * st.Bsize,
		noInodes: st.Files > 0 && st.Ffree == 0}, nil
}
