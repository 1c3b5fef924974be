//go:build !unix

package nodump

// apply does nothing here: Windows Error Reporting keeps no full memory
// dump unless an administrator asked for one (LocalDumps).
func apply() error { return nil }
