#!/usr/bin/env bash
# The `go` that `fyne package --os windows` runs (build.sh sets GO to this
# script): the real go, with COFFER_LDFLAGS appended to the -ldflags of every
# `go build`, so that Coffer.exe carries the version stamp.
#
# Why not GOFLAGS=-ldflags=…, which fyne documents: fyne (tools v1.7.4) builds
# Windows programs twice — once, then again after it has written the icon and
# version resources — and the first build strips the -ldflags entries out of
# GOFLAGS for good, so the binary that ships was linked without them.
set -euo pipefail
: "${COFFER_LDFLAGS:?build.sh sets COFFER_LDFLAGS}"
real=${COFFER_REAL_GO:-go}
[ "${1:-}" = build ] || exec "$real" "$@"
args=() seen=
while [ $# -gt 0 ]; do
	if [ "$1" = -ldflags ] && [ $# -ge 2 ]; then
		args+=(-ldflags "$2 $COFFER_LDFLAGS")
		seen=1
		shift 2
		continue
	fi
	args+=("$1")
	shift
done
[ -n "$seen" ] || args=(build -ldflags "$COFFER_LDFLAGS" "${args[@]:1}")
exec "$real" "${args[@]}"
