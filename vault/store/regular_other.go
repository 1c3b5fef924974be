//go:build !unix

package store

import "os"

const openNoBlock = 0

func clearNoBlock(*os.File) error { return nil }
