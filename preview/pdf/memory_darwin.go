package pdf

// mapNoReserve: macOS commits memory as it is touched anyway.
const mapNoReserve = 0
