#!/usr/bin/env bash
# Release builds of Coffer: the one place that says how a shipped binary is
# compiled, so that `make package`, the reproducibility check and the tests
# build exactly the same way. See packaging/README.md.
#
#   packaging/build.sh stamp            print VERSION, COMMIT, DATE, SOURCE_DATE_EPOCH
#   packaging/build.sh cofferd OUT      static Linux cofferd (CGO_ENABLED=0)
#   packaging/build.sh coffer OUT       the Linux desktop app (cgo: Fyne, GL/X11)
#   packaging/build.sh debs             the two .debs only
#   packaging/build.sh tarball          dist/Coffer.tar.xz only
#   packaging/build.sh windows          the signed Windows installer only
#   packaging/build.sh all              every package this machine can make, into dist/
#
# Reproducible by construction: -trimpath (no build paths, in Go or C code),
# no VCS stamping by the toolchain, GOFLAGS cleared, and the build date is the
# commit's time (SOURCE_DATE_EPOCH), never the clock's. Two builds of one
# commit give the same bytes; packaging/repro.sh checks it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$PATH:/usr/local/go/bin:$HOME/go/bin"
GO=${GO:-go}
TOOLS=${TOOLS:-$ROOT/bin/tools}
STAGE=${STAGE:-$ROOT/bin/release}
DIST=${DIST:-$ROOT/dist}
VPKG=github.com/coffer-vault/coffer/internal/version

die() { echo "build.sh: $*" >&2; exit 1; }

# --- what the binaries say about themselves -------------------------------

# The release version comes from cmd/coffer/FyneApp.toml (which fyne package
# also reads for the Windows resources). A commit tagged v<version> is that
# release; any other commit is a snapshot that sorts before it in dpkg:
# 0.1.0~git20261130.3a4be78c9f12.
stamp() {
	local base commit epoch
	base=$(sed -n 's/^Version = "\(.*\)"$/\1/p' cmd/coffer/FyneApp.toml)
	[ -n "$base" ] || die "no Version in cmd/coffer/FyneApp.toml"
	if git rev-parse --git-dir >/dev/null 2>&1; then
		commit=$(git rev-parse HEAD)
		# Tracked files changed since the commit: say so in the binary.
		git diff --quiet HEAD -- || commit="$commit+dirty"
		epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
		if git describe --exact-match --tags --match "v$base" HEAD >/dev/null 2>&1; then
			VERSION=$base
		else
			VERSION="$base~git$(date -u -d "@$epoch" +%Y%m%d).$(git rev-parse --short=12 HEAD)"
		fi
	else
		# A source tarball: the builder says when its source is from.
		[ -n "${SOURCE_DATE_EPOCH:-}" ] || die "not a git checkout: set SOURCE_DATE_EPOCH to the source's time"
		commit=${COFFER_COMMIT:-unknown}
		epoch=$SOURCE_DATE_EPOCH
		VERSION=${COFFER_VERSION:-$base}
	fi
	COMMIT=$commit
	SOURCE_DATE_EPOCH=$epoch
	DATE=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
	export SOURCE_DATE_EPOCH
	STAMP_LDFLAGS="-X $VPKG.version=$VERSION -X $VPKG.commit=$COMMIT -X $VPKG.date=$DATE"
	LDFLAGS="-s -w $STAMP_LDFLAGS"
}

# Cleared so that nothing in the builder's environment (GOFLAGS=-mod=mod,
# -buildvcs, -race …) changes the output; every flag is spelt out here.
# GOTOOLCHAIN: the machine's Go unless the caller names another (the
# toolchain is part of what a rebuild must match: it is in the SBOM).
goenv() { env GOFLAGS= GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOAMD64=v1 "$@"; }

# C compiler flags for Fyne's C part (GLFW, GL bindings): what
# `fyne package --release` uses, optimised and hardened. With -trimpath the
# go command maps the C sources' paths away itself (no module-cache path
# reaches the binary through __FILE__) and leaves these flags out of the
# build information.
cgo_flags() {
	CGO_CFLAGS="-O3 -pipe -D_FORTIFY_SOURCE=3 -fcf-protection -fstack-protector-strong"
	CGO_LDFLAGS="-Wl,-z,relro,-z,now -Wl,--as-needed"
}

build_cofferd() {
	local out=$1
	goenv CGO_ENABLED=0 GOOS=linux GOARCH=amd64 \
		$GO build -trimpath -buildvcs=false -ldflags "$LDFLAGS" -o "$out" ./cmd/cofferd
}

# Position-independent, as Debian builds its own programs (lintian calls a
# non-PIE program out): the desktop app parses untrusted documents, and
# ASLR of its code is cheap. cofferd stays a plain static binary — a static
# PIE needs the external linker, so cgo, which the static build leaves out.
build_coffer() {
	local out=$1
	cgo_flags
	goenv CGO_ENABLED=1 GOOS=linux GOARCH=amd64 CGO_CFLAGS="$CGO_CFLAGS" CGO_LDFLAGS="$CGO_LDFLAGS" \
		$GO build -trimpath -buildvcs=false -buildmode=pie -tags release -ldflags "$LDFLAGS" -o "$out" ./cmd/coffer
}

# --- tools, pinned (installed into bin/tools through the module proxy) -----

NFPM_PKG=github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
FYNE_PKG=fyne.io/tools/cmd/fyne@v1.7.4
CYCLONEDX_PKG=github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@v1.10.0

tool() {
	local name=$1 pkg=$2 stampfile="$TOOLS/.$1.version"
	if [ ! -x "$TOOLS/$name" ] || [ "$(cat "$stampfile" 2>/dev/null)" != "$pkg" ]; then
		mkdir -p "$TOOLS"
		env -u GOOS -u GOARCH -u CC -u CGO_ENABLED GOFLAGS= GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOBIN="$TOOLS" $GO install "$pkg"
		echo "$pkg" >"$stampfile"
	fi
	echo "$TOOLS/$name"
}

# --- software bills of materials -------------------------------------------

# Beside each artifact: <artifact>.cdx.json (CycloneDX, from the Go build
# information in the binary it ships) and <artifact>.buildinfo.txt
# (`go version -m`: modules with their checksums, and the build settings).
sbom() {
	local artifact=$1 binary=$2 cyclonedx
	cyclonedx=$(tool cyclonedx-gomod "$CYCLONEDX_PKG")
	# -version names the main module's version (the binary records
	# "(devel)"); licences are detected from the module cache and reported
	# as evidence. Its warnings (it cannot fetch Coffer's own module at that
	# version) go to the log.
	"$cyclonedx" bin -json -noserial -notimestamp -licenses -version "v$VERSION" \
		-output "$artifact.cdx.json" "$binary" 2>>"$STAGE/sbom.log"
	$GO version -m "$binary" | sed "1s|^[^:]*:|$(basename "$artifact"):|" >"$artifact.buildinfo.txt"
}

# --- the packages ------------------------------------------------------------

man_pages() {
	local dir=$STAGE/man
	rm -rf "$dir"
	goenv $GO run ./packaging/mangen -version "$VERSION" -out "$dir"
	gzip -9n "$dir"/*.1 # -n: no name or time in the gzip header
}

icons() {
	local dir=$STAGE/icons size
	rm -rf "$dir"
	for size in 48 64 128 256 512; do
		mkdir -p "$dir/${size}x${size}"
		convert assets/icon/coffer.png -resize "${size}x${size}" -strip \
			-define png:exclude-chunks=date,time "PNG32:$dir/${size}x${size}/dev.coffer.desktop.png"
	done
}

# /usr/share/doc/<package>/changelog.gz, which Debian asks of every
# package: one entry, this build's version and commit, dated with the
# commit's time so that it rebuilds to the same bytes.
changelog() {
	local pkg=$1 dir=$STAGE/doc/$1
	mkdir -p "$dir"
	{
		echo "$pkg ($VERSION) unstable; urgency=medium"
		echo
		echo "  * Built from commit $COMMIT."
		echo
		echo " -- $COFFER_MAINTAINER  $(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")"
	} | gzip -9n >"$dir/changelog.gz"
}

debs() {
	local nfpm
	nfpm=$(tool nfpm "$NFPM_PKG")
	man_pages
	icons
	# nfpm expands ${VAR} in its configuration; file times come from
	# SOURCE_DATE_EPOCH, so the .deb too is the same bytes on a rebuild.
	export COFFER_VERSION=$VERSION STAGE ROOT
	export COFFER_MAINTAINER=${COFFER_MAINTAINER:-"Coffer developers <coffer-maintainers@users.noreply.github.com>"}
	rm -rf "$STAGE/doc"
	changelog coffer
	changelog cofferd
	"$nfpm" package --config packaging/linux/nfpm-coffer.yaml --packager deb --target "$DIST/coffer_${VERSION}_amd64.deb"
	"$nfpm" package --config packaging/linux/nfpm-cofferd.yaml --packager deb --target "$DIST/cofferd_${VERSION}_amd64.deb"
	sbom "$DIST/coffer_${VERSION}_amd64.deb" "$STAGE/coffer"
	sbom "$DIST/cofferd_${VERSION}_amd64.deb" "$STAGE/cofferd"
}

# fyne package, leaving cmd/coffer/FyneApp.toml as it was: fyne raises its
# Build number after every package, which would make the next build's tree
# dirty and its stamp different. The build number is the source's to set.
fyne_package() {
	local fyne saved status=0
	fyne=$(tool fyne "$FYNE_PKG")
	saved=$(mktemp)
	cp cmd/coffer/FyneApp.toml "$saved"
	(cd cmd/coffer && "$fyne" package "$@") || status=$?
	cp "$saved" cmd/coffer/FyneApp.toml
	rm -f "$saved"
	return $status
}

# Coffer.tar.xz for Linux desktops without dpkg: `fyne package` around the
# binary built above (the same bytes as in the .deb), with its desktop entry,
# icon and a Makefile for `make user-install` or `sudo make install`.
#
# fyne packs it with the system's GNU tar and xz, which take their options
# from the environment: sorted names, root's, the commit's time for every
# file, no access or change times, single-threaded xz — so that the
# tarball, not only the binary in it, rebuilds to the same bytes.
tarball() {
	TAR_OPTIONS="--sort=name --mtime=@$SOURCE_DATE_EPOCH --owner=0 --group=0 --numeric-owner --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime" \
		XZ_OPT="-T1" fyne_package --os linux --release --executable "$STAGE/coffer"
	mv cmd/coffer/Coffer.tar.xz "$DIST/Coffer.tar.xz"
	sbom "$DIST/Coffer.tar.xz" "$STAGE/coffer"
}

# The Windows installer: Coffer.exe cross-built with mingw by fyne package
# (icon, manifest and version resources), signed; then an NSIS installer
# around it (per-machine, Start menu entry, uninstaller in Programs and
# Features), its uninstaller and itself signed too.
windows() {
	local signdir exe setup
	signdir=$STAGE/signing
	packaging/windows/sign.sh setup "$signdir"
	rm -f cmd/coffer/Coffer.exe
	# fyne package builds with -trimpath and -ldflags "-H=windowsgui -s -w"
	# for --release; go-stamped.sh adds the stamp to its -ldflags (see there
	# why GOFLAGS cannot carry it).
	COFFER_REAL_GO="$GO" GO="$ROOT/packaging/windows/go-stamped.sh" COFFER_LDFLAGS="$STAMP_LDFLAGS" \
		GOFLAGS=-buildvcs=false GOTOOLCHAIN="${GOTOOLCHAIN:-local}" GOAMD64=v1 \
		CC=x86_64-w64-mingw32-gcc CGO_ENABLED=1 GOOS=windows GOARCH=amd64 \
		fyne_package --os windows --release
	mkdir -p "$STAGE/windows"
	exe=$STAGE/windows/Coffer.exe
	mv cmd/coffer/Coffer.exe "$exe"
	# No Windows here to run Coffer.exe --version: the stamp must be in it.
	grep -qaF "$COMMIT" "$exe" && grep -qaF "$VERSION" "$exe" ||
		die "Coffer.exe was linked without the version stamp ($VERSION, $COMMIT)"
	packaging/windows/sign.sh sign "$signdir" "$exe"
	setup="$DIST/Coffer-${VERSION}-setup.exe"
	local numeric build
	build=$(sed -n 's/^Build = \([0-9]*\)$/\1/p' cmd/coffer/FyneApp.toml)
	numeric="$(sed -n 's/^Version = "\([0-9.]*\).*"$/\1/p' cmd/coffer/FyneApp.toml).${build:-0}"
	makensis -V2 -INPUTCHARSET UTF8 \
		-DVERSION="$VERSION" -DNUMERIC_VERSION="$numeric" -DEXE="$exe" -DOUTFILE="$setup" \
		-DSIGN="$ROOT/packaging/windows/sign.sh sign $signdir" \
		packaging/windows/coffer.nsi
	packaging/windows/sign.sh sign "$signdir" "$setup"
	sbom "$setup" "$exe"
}

# The static cofferd for servers, alone and in a server bundle,
# cofferd_<ver>_linux_amd64.tar.gz: the binary, the hardened systemd unit
# (packaging/cofferd.service), the example configurations, and the
# Containerfile with the rest of its build context (a passwd naming its
# user, the empty folder that becomes the data volume), so that
# `podman build` in the unpacked folder makes the container. Made like a
# release tarball: sorted, owned by root, every time the commit's, gzip
# without name or time, so a rebuild gives the same bytes.
server() {
	local name=cofferd_${VERSION}_linux_amd64 ctx
	cp "$STAGE/cofferd" "$DIST/$name"
	sbom "$DIST/$name" "$STAGE/cofferd"
	ctx=$STAGE/server/cofferd-$VERSION
	rm -rf "$STAGE/server"
	mkdir -p "$ctx/data" "$ctx/examples"
	install -m 0755 "$STAGE/cofferd" "$ctx/cofferd"
	install -m 0644 packaging/cofferd.service packaging/server/Containerfile packaging/server/README.md "$ctx/"
	install -m 0644 packaging/server/embedded.env packaging/server/postgres-s3.env \
		packaging/server/tls-credentials.conf "$ctx/examples/"
	echo "cofferd:x:65532:65532:cofferd:/var/lib/cofferd:/nonexistent" >"$ctx/passwd"
	echo "cofferd:x:65532:" >"$ctx/group"
	chmod 0644 "$ctx/passwd" "$ctx/group"
	chmod 0755 "$ctx/data" "$ctx/examples"
	tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
		--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
		-C "$STAGE/server" -cf - "cofferd-$VERSION" | gzip -9n >"$DIST/$name.tar.gz"
	sbom "$DIST/$name.tar.gz" "$STAGE/cofferd"
}

linux_binaries() {
	mkdir -p "$DIST" "$STAGE"
	echo "== version $VERSION, commit $COMMIT, date $DATE"
	echo "== cofferd (static)"
	build_cofferd "$STAGE/cofferd"
	echo "== coffer (Linux)"
	build_coffer "$STAGE/coffer"
}

all() {
	rm -rf "$DIST" "$STAGE"
	linux_binaries
	# What check.sh checks the packages against, even if HEAD moves on.
	printf 'VERSION=%q\nCOMMIT=%q\nDATE=%q\nSOURCE_DATE_EPOCH=%q\n' "$VERSION" "$COMMIT" "$DATE" "$SOURCE_DATE_EPOCH" >"$STAGE/stamp.env"
	echo "== .deb packages"
	debs
	echo "== Coffer.tar.xz"
	tarball
	echo "== cofferd for servers"
	server
	echo "== Windows installer"
	windows
	(cd "$DIST" && sha256sum -- *.deb *.tar.xz *.exe cofferd_*_linux_amd64 cofferd_*_linux_amd64.tar.gz >SHA256SUMS)
	echo "== dist/"
	ls -l "$DIST"
}

stamp
case "${1:-}" in
stamp) printf 'VERSION=%s\nCOMMIT=%s\nDATE=%s\nSOURCE_DATE_EPOCH=%s\n' "$VERSION" "$COMMIT" "$DATE" "$SOURCE_DATE_EPOCH" ;;
cofferd) build_cofferd "${2:?output path}" ;;
coffer) build_coffer "${2:?output path}" ;;
debs) linux_binaries && debs ;;
tarball) linux_binaries && tarball ;;
windows) mkdir -p "$DIST" "$STAGE" && windows ;;
all) all ;;
*) die "usage: build.sh stamp | cofferd OUT | coffer OUT | debs | tarball | windows | all" ;;
esac
