//go:build !linux

package oskeyring

import "time"

// Put returns ErrUnsupported.
func Put(name string, secret []byte, ttl time.Duration) error { return ErrUnsupported }

// Get returns ErrUnsupported.
func Get(name string) ([]byte, error) { return nil, ErrUnsupported }

// Refresh returns ErrUnsupported.
func Refresh(name string, ttl time.Duration) error { return ErrUnsupported }

// Remove returns nil: there is nothing to remove.
func Remove(name string) error { return nil }
