# Coffer — what a newcomer runs: `make run` and `make test`.
# Both install what they need on a fresh Debian/Ubuntu machine (apt with
# sudo when not root, Go modules through the module proxy).

SHELL := /bin/bash
GO ?= go
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin
# The Go toolchain every build and test uses, fetched through the module
# proxy by whatever Go the machine has (go1.21 or later): go1.27.3, whose
# standard library fixes the eleven vulnerabilities govulncheck found called
# in go1.26.8 (cofferd's HTTP/2 server among them). go.mod asks for it too,
# so a `go` run outside make with an older toolchain says so rather than
# building a vulnerable binary. GOTOOLCHAIN=local make ... uses the
# machine's own Go when it is that version or newer.
export GOTOOLCHAIN ?= go1.27.3
TOOLS := $(CURDIR)/bin/tools
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Debian packages: the C toolchain and GL/X11 headers Fyne's cgo part
# needs, xdg-open (xdg-utils), which "Open in default app" and "Print"
# hand their copy to, the X tools the real-window test drives, the other
# PDF viewers (poppler, MuPDF) the export-stamp test renders with, the
# Windows cross compiler, and the benchmarks' peers.
GUI_DEBS := gcc libgl1-mesa-dev xorg-dev xdg-utils
# LibreOffice without its GUI converts Word, PowerPoint, OpenDocument and
# RTF files to PDF for previews (preview/office); Carlito, Caladea and
# Liberation are metric-compatible stand-ins for Calibri, Cambria, Arial and
# Times New Roman, so that pages break where Word breaks them. They are
# installed without recommended packages (LEAN_DEBS): those add Python
# macro scripting, Math and a terminal, nothing a conversion needs, and
# take 127 packages (109 MiB) instead of 71 (96 MiB, about 21 s to
# download and install from deb.debian.org on Debian 12).
OFFICE_DEBS := libreoffice-core-nogui libreoffice-writer-nogui libreoffice-impress-nogui libreoffice-calc-nogui \
	fonts-crosextra-carlito fonts-crosextra-caladea fonts-liberation2
XTEST_DEBS := xvfb xdotool imagemagick poppler-utils mupdf-tools
# The quick packaging tests validate the desktop entry, the metainfo and the
# systemd unit.
PKGTEST_DEBS := desktop-file-utils appstream systemd
CROSS_DEBS := gcc-mingw-w64-x86-64
# The scale-out store's tests start a private PostgreSQL (Debian's server
# programs; no cluster of the package is used) and versitygw, an
# S3-compatible server over a folder, built from the module proxy into
# bin/tools (not packaged by Debian).
SERVER_DEBS := postgresql
VERSITYGW := github.com/versity/versitygw/cmd/versitygw@v1.8.0
BENCH_DEBS := age restic poppler-utils mupdf-tools
APT := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: install run tour package package-check repro-check package-linux package-windows vulncheck icon test deps test-deps lint bench fuzz crash-long cross build clean

build:
	$(GO) build -o bin/coffer ./cmd/coffer
	$(GO) build -o bin/cofferd ./cmd/cofferd

# The two binaries, for the README's examples: into $(PREFIX)/bin,
# ~/.local/bin unless PREFIX says otherwise.
PREFIX ?= $(HOME)/.local
install: build
	install -d $(PREFIX)/bin
	install -m 0755 bin/coffer bin/cofferd $(PREFIX)/bin/
	@case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; *) echo "note: $(PREFIX)/bin is not on your PATH; add it, or run bin/coffer";; esac

deps:
	@command -v $(GO) >/dev/null || { echo "Go is missing: install Go 1.21 or later (it fetches go1.27.3 itself) from https://go.dev/dl"; exit 1; }
	@missing=$$(for p in $(GUI_DEBS) $(EXTRA_DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing $$missing"; $(APT) update -qq && $(APT) install -y -qq $$missing; fi
	@missing=$$(for p in $(LEAN_DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing $$missing (without recommended packages)"; \
		$(APT) update -qq && $(APT) install -y -qq --no-install-recommends $$missing; fi
	$(GO) mod download

# The tests also drive a real window under Xvfb, cross-build for Windows,
# and convert Office documents with LibreOffice.
test-deps:
	$(MAKE) deps EXTRA_DEBS="$(XTEST_DEBS) $(CROSS_DEBS) $(PKGTEST_DEBS) $(SERVER_DEBS)" LEAN_DEBS="$(OFFICE_DEBS)"
	@if [ ! -x $(TOOLS)/versitygw ] || [ "$$(cat $(TOOLS)/.versitygw.version 2>/dev/null)" != "$(VERSITYGW)" ]; then \
		echo "building $(VERSITYGW) into bin/tools"; \
		mkdir -p $(TOOLS) && env GOFLAGS= GOBIN=$(TOOLS) $(GO) install $(VERSITYGW) && echo "$(VERSITYGW)" >$(TOOLS)/.versitygw.version; fi

# The desktop app on a demo vault (the passphrase is printed); without a
# display, the command-line tour. LibreOffice previews its Office documents.
run: LEAN_DEBS = $(OFFICE_DEBS)
run: deps build
	./scripts/demo.sh bin/coffer

tour: deps build
	./scripts/tour.sh bin/coffer

# The sync suites run a second time on the scale-out store (PostgreSQL and
# versitygw, started by the tests): both stores are tested for real.
test: test-deps lint cross vulncheck
	$(GO) test -timeout 30m ./...
	COFFER_TEST_STORE=scaleout $(GO) test -timeout 20m ./sync/client/ ./sync/server/

# gofmt of the toolchain the code is built with; staticcheck pinned and
# built by that toolchain into bin/tools (one built by an older Go cannot
# read a newer standard library).
lint:
	@gofmt=$$($(GO) env GOROOT)/bin/gofmt; test -z "$$($$gofmt -l .)" || { echo "gofmt needed:"; $$gofmt -l .; exit 1; }
	$(GO) vet ./...
	@want="$(STATICCHECK) $$($(GO) env GOVERSION)"; \
	if [ ! -x $(TOOLS)/staticcheck ] || [ "$$(cat $(TOOLS)/.staticcheck.version 2>/dev/null)" != "$$want" ]; then \
		mkdir -p $(TOOLS) && env GOFLAGS= GOBIN=$(TOOLS) $(GO) install $(STATICCHECK) && echo "$$want" >$(TOOLS)/.staticcheck.version; fi
	$(TOOLS)/staticcheck ./...

# Benchmarks with their peers in the same run; see README "Performance".
bench:
	$(MAKE) deps EXTRA_DEBS="$(BENCH_DEBS)" LEAN_DEBS="$(OFFICE_DEBS)"
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./bench/

FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./vault/object/
	$(GO) test -run '^$$' -fuzz '^FuzzParseManifest$$' -fuzztime $(FUZZTIME) ./vault/
	$(GO) test -run '^$$' -fuzz '^FuzzOpenManifest$$' -fuzztime $(FUZZTIME) ./vault/
	$(GO) test -run '^$$' -fuzz '^FuzzParseCheckpoint$$' -fuzztime $(FUZZTIME) ./vault/
	$(GO) test -run '^$$' -fuzz '^FuzzSniff$$' -fuzztime $(FUZZTIME) ./pdfstamp/
	$(GO) test -run '^$$' -fuzz '^FuzzCheckEncrypted$$' -fuzztime $(FUZZTIME) ./preview/office/
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./sync/orglog/

# 200 rounds of kill -9 during import, each followed by `coffer check`.
crash-long:
	COFFER_LONG=1 $(GO) test -run TestKillDuringImport -timeout 60m -v ./cmd/coffer/

# The binary must build for Windows (cgo, with mingw, as it ships); for
# macOS, which needs Apple's SDK for the GUI, the core and CLI packages.
cross:
	CC=x86_64-w64-mingw32-gcc CGO_ENABLED=1 GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./cmd/coffer
	GOOS=darwin GOARCH=arm64 $(GO) build ./app/... ./vault/... ./internal/... ./preview/... ./watermark/... ./pdfstamp/...

# Release packages into dist/ (packaging/README.md): the coffer and cofferd
# .debs (nfpm), Coffer.tar.xz (fyne package), the signed Windows installer
# (mingw, NSIS, osslsigncode), the static cofferd, each with its SBOM.
# Release builds recompile Fyne's C part for Linux and for Windows: minutes.
PKG_DEBS := $(CROSS_DEBS) imagemagick nsis osslsigncode openssl xz-utils
# What package-check inspects and installs with.
PKG_CHECK_DEBS := mmdebstrap lintian xvfb xdotool imagemagick desktop-file-utils appstream systemd file

package: deps
	$(MAKE) deps EXTRA_DEBS="$(PKG_DEBS)"
	packaging/build.sh all

# Every package inspected as a user would meet it: contents and dependencies,
# an install into a clean Debian root with apt, the installed app in a real
# window under Xvfb, the installer's signature, the static server; then a
# second build from scratch, in another folder with empty caches, must give
# the same bytes. Slow (a fresh Debian root and two cold builds): not in
# `make test`; .ci/run runs it after.
package-check: package
	$(MAKE) deps EXTRA_DEBS="$(PKG_CHECK_DEBS)"
	packaging/check.sh
	packaging/repro.sh

# Two builds of cofferd and the Linux coffer, in different folders with
# different caches: the same hashes, or it fails.
repro-check: deps
	packaging/repro.sh

package-linux: deps
	$(MAKE) deps EXTRA_DEBS="$(PKG_DEBS)"
	packaging/build.sh tarball

package-windows: deps
	$(MAKE) deps EXTRA_DEBS="$(PKG_DEBS)"
	packaging/build.sh windows

# govulncheck ./... against a database built from golang.org/x/vulndb
# (pinned, through the module proxy); findings triaged in
# packaging/vulns-triaged.txt.
vulncheck:
	packaging/vulncheck.sh

# The app icon, rasterised from its SVG (ImageMagick).
icon:
	convert -background none -density 96 assets/icon/coffer.svg -resize 512x512 -depth 8 PNG32:assets/icon/coffer.png

clean:
	rm -rf bin dist
