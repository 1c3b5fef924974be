// Package store keeps opaque objects by kind and ID. It knows nothing of what
// the bytes mean: the local vault, a server's blob folder and (later) an S3
// bucket all implement the same small Store interface, so the code above it
// and its conformance tests are shared.
package store

import (
	"context"
	"errors"

	"github.com/coffer-vault/coffer/vault/object"
)

// ErrNotFound is returned by Get and Stat for an object that is not stored.
var ErrNotFound = errors.New("object not found")

// Handle names a stored object.
type Handle struct {
	Kind object.Kind
	ID   object.ID
}

func (h Handle) String() string { return h.Kind.String() + "/" + h.ID.String() }

// Store is the minimal storage contract.
type Store interface {
	// Put stores data under h. It is atomic: a concurrent or later Get sees
	// either nothing or all of data, never a prefix. Putting an object that
	// exists replaces it with the same bytes (IDs name contents or are random,
	// so callers never put different bytes under one handle).
	Put(ctx context.Context, h Handle, data []byte) error
	// Get returns the object's bytes, or an error wrapping ErrNotFound.
	Get(ctx context.Context, h Handle) ([]byte, error)
	// Stat returns the object's size, or an error wrapping ErrNotFound.
	Stat(ctx context.Context, h Handle) (int64, error)
	// List calls fn for every stored object of kind, in no particular order.
	// It stops and returns fn's error if fn fails.
	List(ctx context.Context, kind object.Kind, fn func(id object.ID, size int64) error) error
	// Remove deletes the object; removing a missing object is not an error.
	Remove(ctx context.Context, h Handle) error
	// Sync makes every Put that has returned durable: after Sync returns, a
	// crash or power loss does not lose them.
	Sync(ctx context.Context) error
}
