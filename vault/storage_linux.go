package vault

import "golang.org/x/sys/unix"

func statStorage(dir string) (storage, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return storage{}, err
	}
	return storage{readOnly: st.Flags&unix.ST_RDONLY != 0 || !writable(dir), free: int64(st.Bavail) * st.Bsize}, nil
}
