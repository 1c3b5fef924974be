//go:build !linux && !darwin

package pdf

import "github.com/tetratelabs/wazero/experimental"

// memoryAllocator is wazero's own here (a Go slice grown by copying).
func memoryAllocator() experimental.MemoryAllocator { return nil }
