package pdf

import "golang.org/x/sys/unix"

// mapNoReserve: the reservation commits no swap until it is used.
const mapNoReserve = unix.MAP_NORESERVE
