package index

import (
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Failure says how SQLite reported that the storage under the index
// refused it; the vault turns it into words for the user.
type Failure int

const (
	// NotStorage: the error is not about the storage.
	NotStorage Failure = iota
	// Full: SQLITE_FULL, the disk (or the user's quota) is full.
	Full
	// ReadOnly: SQLITE_READONLY, or a write to an index opened read-only.
	ReadOnly
	// IO: SQLITE_IOERR or SQLITE_CANTOPEN. SQLite does not keep the
	// cause: a full disk is a common one (the shared-memory file cannot
	// grow, even for a read), read-only media another. The caller looks
	// at the storage itself.
	IO
)

// StorageFailure classifies err, which an index method returned.
func StorageFailure(err error) Failure {
	if errors.Is(err, ErrReadOnly) {
		return ReadOnly
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return NotStorage
	}
	switch se.Code() & 0xff { // the primary result code
	case sqlite3.SQLITE_FULL:
		return Full
	case sqlite3.SQLITE_READONLY:
		return ReadOnly
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
		return IO
	}
	return NotStorage
}
