#!/usr/bin/env bash
# lint.sh runs every lint check: gofmt, go vet, and tools/lint (staticcheck,
# unused, errcheck, errorlint, bodyclose, nilerr, ineffassign, misspell and
# the depguard import rules, see tools/lint/main.go) through go vet, so the
# go command runs it per package in parallel and caches the results.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { echo "lint: $1 (${SECONDS}s)"; }
# tools/lint builds from the Go module proxy in a minute or two where
# golangci-lint took about ten; when it is up to date this is a no-op.
step "building bin/tidal-lint"
mkdir -p bin
(cd tools/lint && go build -o ../../bin/tidal-lint .)
step gofmt
unformatted="$(gofmt -l $(git ls-files '*.go'))"
if [ -n "$unformatted" ]; then
	echo "gofmt needed:"
	echo "$unformatted"
	exit 1
fi
step "go vet ./... (builds every package once; the test phases reuse the build cache)"
go vet ./...
step "tidal-lint (go vet -vettool)"
go vet -vettool="$PWD/bin/tidal-lint" ./...
step "tools/lint's own vet and tests"
(cd tools/lint && go vet ./... && go test -count=1 ./...)
