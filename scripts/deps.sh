#!/usr/bin/env bash
# deps.sh installs what TidalDB's tests need and the machine lacks. It is
# idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

GOBIN="$(go env GOPATH)/bin"
GOLANGCI_LINT_VERSION=v2.15.0

echo "deps: go modules"
go mod download

if ! "$GOBIN/golangci-lint" version 2>/dev/null | grep -q "${GOLANGCI_LINT_VERSION#v}"; then
	echo "deps: installing golangci-lint $GOLANGCI_LINT_VERSION"
	go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_LINT_VERSION"
fi

# Debian packages the end-to-end tests drive (real peers, not mocks).
need=()
DEB_PACKAGES="prometheus victoria-metrics influxdb"
for pkg in $DEB_PACKAGES; do
	dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "deps: installing Debian packages: ${need[*]}"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# DuckDB (npm @duckdb/node-api) reads back UNLOAD's Parquet files in
# query/unload's tests; scripts/duckdb/query.mjs is the runner.
if ! [ -d scripts/duckdb/node_modules/@duckdb/node-api ]; then
	command -v npm >/dev/null 2>&1 || {
		SUDO=""
		[ "$(id -u)" -eq 0 ] || SUDO=sudo
		$SUDO apt-get update -qq
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
	}
	echo "deps: installing DuckDB (npm @duckdb/node-api)"
	(cd scripts/duckdb && npm install --no-audit --no-fund --silent)
fi
echo "deps: ok"
