# Coffer — what a newcomer runs: `make run` and `make test`.
# Both install what they need on a fresh Debian/Ubuntu machine (apt with
# sudo when not root, Go modules through the module proxy).

SHELL := /bin/bash
GO ?= go
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin

# Debian packages: the benchmark's peers.
BENCH_DEBS := age restic

.PHONY: run test deps lint bench fuzz crash-long cross build clean

build:
	$(GO) build -o bin/coffer ./cmd/coffer

deps:
	@command -v $(GO) >/dev/null || { echo "Go is missing: install Go 1.26 from https://go.dev/dl"; exit 1; }
	$(GO) mod download

run: deps build
	./scripts/tour.sh bin/coffer

test: deps lint cross
	$(GO) test -timeout 30m ./...

lint:
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	staticcheck ./...

# Benchmarks with their peers in the same run; see README "Performance".
bench: deps
	@for p in $(BENCH_DEBS); do command -v $$p >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(BENCH_DEBS); break; }; done
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./bench/

FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./vault/object/
	$(GO) test -run '^$$' -fuzz '^FuzzParseManifest$$' -fuzztime $(FUZZTIME) ./vault/
	$(GO) test -run '^$$' -fuzz '^FuzzOpenManifest$$' -fuzztime $(FUZZTIME) ./vault/

# 200 rounds of kill -9 during import, each followed by `coffer check`.
crash-long:
	COFFER_LONG=1 $(GO) test -run TestKillDuringImport -timeout 60m -v ./cmd/coffer/

# The binaries must build for every desktop platform.
cross:
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./cmd/coffer
	GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null ./cmd/coffer

clean:
	rm -rf bin
