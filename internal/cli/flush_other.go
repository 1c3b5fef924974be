//go:build !linux

package cli

import "os"

// flushInput is flush_linux.go's: elsewhere what was typed ahead stays.
func flushInput(*os.File) {}
