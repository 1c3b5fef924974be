//go:build !unix

package store

import "os"

const (
	openNoBlock  = 0
	openNoFollow = 0 // OpenOwnRegular's Lstat and SameFile checks stand alone
)

func clearNoBlock(*os.File) error { return nil }
