package vault

import "golang.org/x/sys/unix"

func statStorage(dir string) (storage, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return storage{}, err
	}
	return storage{readOnly: st.Flags&unix.MNT_RDONLY != 0 || !writable(dir), free: int64(st.Bavail) * int64(st.Bsize),
		noInodes: st.Files > 0 && st.Ffree == 0}, nil
}
