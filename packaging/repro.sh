#!/usr/bin/env bash
# Reproducibility: cofferd and the Linux coffer, built twice, must be the
# same bytes (make repro-check; make package-check runs it too).
#
#   build A: in this checkout, with the usual build and module caches
#   build B: from a copy of the source (no .git: the stamp comes from the
#            environment, as for a source tarball) in another, longer path,
#            with an empty build cache, an empty module cache filled from
#            A's (offline) and another TMPDIR, some seconds later
#
# Both with packaging/build.sh, the one description of a release build. If
# make package ran, its binaries in bin/release must match too. Prints the
# SHA-256 of each; on a difference, where the two first differ.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$PATH:/usr/local/go/bin:$HOME/go/bin"
eval "$(packaging/build.sh stamp)"

work=$(mktemp -d /tmp/coffer-repro.XXXXXX)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

echo "== build A: $ROOT"
mkdir -p "$work/a"
packaging/build.sh cofferd "$work/a/cofferd"
packaging/build.sh coffer "$work/a/coffer"

src=$work/b/some/other/much/longer/path/to/the/coffer-source
echo "== build B: $src, empty caches"
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard | grep -zv '^cofferd.exe$' |
	xargs -0 tar -cf - | tar -xf - -C "$src"
modcache=$(go env GOMODCACHE)
sleep 2 # a different clock, which must not matter
(
	cd "$src"
	export GOCACHE=$work/b/gocache GOMODCACHE=$work/b/gomod TMPDIR=$work/b/tmp
	export GOPROXY="file://$modcache/cache/download" GOSUMDB=off GONOSUMDB= GOPRIVATE=
	mkdir -p "$TMPDIR"
	export SOURCE_DATE_EPOCH COFFER_COMMIT=$COMMIT COFFER_VERSION=$VERSION
	packaging/build.sh cofferd "$work/b/cofferd"
	packaging/build.sh coffer "$work/b/coffer"
)

status=0
for bin in cofferd coffer; do
	a=$(sha256sum "$work/a/$bin" | cut -d' ' -f1)
	b=$(sha256sum "$work/b/$bin" | cut -d' ' -f1)
	echo "$bin  A $a"
	echo "$bin  B $b"
	if [ "$a" != "$b" ]; then
		echo "FAIL: $bin differs between the builds; first differing bytes:"
		cmp -l "$work/a/$bin" "$work/b/$bin" | head -5 || true
		diff <(go version -m "$work/a/$bin") <(go version -m "$work/b/$bin") || true
		status=1
	fi
	if [ -f "bin/release/$bin" ]; then
		r=$(sha256sum "bin/release/$bin" | cut -d' ' -f1)
		echo "$bin  make package $r"
		[ "$r" = "$a" ] || { echo "FAIL: make package's $bin is not build A's (was the tree changed since?)"; status=1; }
	fi
	if grep -qaF -e "$ROOT" -e "$src" -e "$modcache" "$work/b/$bin" "$work/a/$bin"; then
		echo "FAIL: a build path is in $bin"
		status=1
	fi
done
[ $status = 0 ] && echo "reproducible: cofferd and coffer are the same bytes from both builds"
exit $status
