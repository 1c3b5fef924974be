//go:build !linux

package pdf

import (
	"errors"
	"os"
)

// havePipes: elsewhere the checked files are written to the private folder
// before wazero starts (see cache.go).
const havePipes = false

const nonblock = 0

func mkfifo(string) error { return errors.ErrUnsupported }

func growPipe(*os.File) {}

func prefetch(string) {}
