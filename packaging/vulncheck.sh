#!/usr/bin/env bash
# govulncheck ./... against the Go vulnerability database, offline: the
# database is built from golang.org/x/vulndb (its data/osv reports), a Go
# module fetched through the module proxy like any other and pinned below,
# because the database's own web address cannot be reached from the
# machines this project builds on. Findings are triaged in
# packaging/vulns-triaged.txt; packaging/vulntriage fails on any called
# vulnerability not listed there.
#
# When the module proxy cannot be reached either (and the module is not in
# the module cache), there is no database and nothing can be checked: that
# fails, because a check that passes on no data is no check. Only someone
# who says so — VULNCHECK_OFFLINE=skip, for a laptop on a train — gets a
# skip, with a message that nothing was checked. CI reaches the proxy.
#
# Refreshing the database: set VULNDB_VERSION to a newer pseudo-version of
# golang.org/x/vulndb (go list -m -versions golang.org/x/vulndb), run
# make vulncheck and triage what it finds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$PATH:/usr/local/go/bin:$HOME/go/bin"
GO=${GO:-go}
TOOLS=${TOOLS:-$ROOT/bin/tools}

GOVULNCHECK_PKG=golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB_VERSION=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}

src=$(env GOFLAGS= $GO mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" 2>/dev/null | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p') || true
if [ -z "$src" ] || [ ! -d "$src/data/osv" ]; then
	echo "vulncheck: golang.org/x/vulndb@$VULNDB_VERSION could not be fetched (no module proxy?):"
	echo "vulncheck: no vulnerability database, so nothing was checked."
	if [ "${VULNCHECK_OFFLINE:-}" = skip ]; then
		echo "vulncheck: SKIPPED (VULNCHECK_OFFLINE=skip). Run make vulncheck where the proxy is reachable."
		exit 0
	fi
	echo "vulncheck: FAIL. Run it where the module proxy is reachable, or set VULNCHECK_OFFLINE=skip to skip it knowingly."
	exit 1
fi

# The tools, pinned, built once into bin/tools by the toolchain that
# builds Coffer (govulncheck built by an older Go cannot load a newer
# standard library).
install() {
	local name=$1 pkg=$2 want
	want="$pkg $($GO env GOVERSION)"
	if [ ! -x "$TOOLS/$name" ] || [ "$(cat "$TOOLS/.$name.version" 2>/dev/null)" != "$want" ]; then
		mkdir -p "$TOOLS"
		env GOFLAGS= GOBIN="$TOOLS" $GO install "$pkg"
		echo "$want" >"$TOOLS/.$name.version"
	fi
}
install govulncheck "$GOVULNCHECK_PKG"
install indexdb "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION"

# The database in govulncheck's v1 layout (index/*.json, ID/*.json), once
# per pinned version.
db=$ROOT/bin/vulndb/$VULNDB_VERSION
if [ ! -f "$db/index/modules.json" ]; then
	rm -rf "$db.tmp"
	"$TOOLS/indexdb" -vulns "$src/data/osv" -out "$db.tmp"
	mv "$db.tmp" "$db"
fi

echo "vulncheck: govulncheck ./... with golang.org/x/vulndb@$VULNDB_VERSION ($(ls "$db/ID" | wc -l) reports), $($GO env GOVERSION)"
out=$ROOT/bin/vulncheck.json
# Exit status 3 means findings; the triage decides what they mean.
"$TOOLS/govulncheck" -db "file://$db" -format json ./... >"$out" || [ $? -eq 3 ]
env GOFLAGS= $GO run ./packaging/vulntriage -triaged packaging/vulns-triaged.txt <"$out"
