package pdf

// mapNoReserve: macOS commits memory as it is touched anyway.
const mapNoReserve = 0

// adviseHuge does nothing: macOS has no transparent huge pages to ask for.
func adviseHuge([]byte) {}
