// Package nodump keeps the process's memory out of core dumps: a Coffer
// process holds decrypted pages and documents, and so do the converters
// it starts (LibreOffice in its sandbox), and a crash — a hostile
// document, a converter aborting at its memory limit, GOTRACEBACK=crash —
// could otherwise write them to disk, or hand them to systemd-coredump or
// apport outside any sandbox.
package nodump

// Apply sets this process's core file size limit to zero, soft and hard:
// children inherit it and cannot raise it, and systemd-coredump and
// apport store no core for a process whose limit is zero. It returns the
// error, if any; the process should go on regardless, as it did before.
//
// It does not also mark the process not dumpable (PR_SET_DUMPABLE): a
// child started before its exec is not dumpable either, its /proc files
// are root's, and the parent, as an ordinary user, can then not write the
// uid_map of the converter's user namespace (measured: "fork/exec: permission
// denied"). A Go process writes no core of its own unless GOTRACEBACK=crash.
func Apply() error { return apply() }
