package cli

import (
	"os"

	"golang.org/x/sys/unix"
)

// flushInput discards what was typed on the terminal f and not read yet,
// so that a key pressed while a command worked (an Enter, a y) does not
// answer the question it asks next.
func flushInput(f *os.File) {
	_ = unix.IoctlSetInt(int(f.Fd()), unix.TCFLSH, unix.TCIFLUSH)
}
