// Package bench measures how fast `coffer import` stores a large file
// compared with peer tools run side by side on the same disk: `age`
// encrypting the file to one X25519 recipient, and `restic backup` into a
// fresh local repository. It also times coffer's passphrase unlock
// (`coffer ls`) and a re-import of the unchanged file, records wall time
// and peak RSS of every timed process, and checks coffer's performance
// budgets. It holds only a benchmark; run it with
//
//	go test -run '^$' -bench Import -benchtime 1x -timeout 60m ./bench/
//
// COFFER_BENCH_SIZE sets the test file size in bytes (default 1 GiB) and
// COFFER_BENCH_DIR the parent of the scratch directory (default
// os.TempDir()).
package bench
