#!/usr/bin/env bash
# deps.sh installs what TidalDB's tests need and the machine lacks. It is
# idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "deps: go modules"
go mod download
# The linter, tools/lint, is a module of its own pinned by its go.sum;
# scripts/lint.sh builds it.
(cd tools/lint && go mod download)

# Debian packages the end-to-end tests drive (real peers, not mocks).
need=()
DEB_PACKAGES="prometheus victoria-metrics influxdb influxdb-client mosquitto mosquitto-clients"
# Headless Chromium drives the web console's browser test (cmd/tidal
# TestConsoleBrowser, through chromedp).
DEB_PACKAGES="$DEB_PACKAGES chromium"
for pkg in $DEB_PACKAGES; do
	dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# The AWS CLI drives the scheduled-query example (cmd/tidal
# TestScheduledQueryAWSCLI); any aws on PATH will do.
command -v aws >/dev/null 2>&1 || need+=(awscli)
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
# s3rver (npm), a real S3-compatible server for the object-storage,
# snapshot and UNLOAD tests; internal/testutil/s3server starts it.
if [ ! -f scripts/s3rver/node_modules/.package-lock.json ] || [ scripts/s3rver/package-lock.json -nt scripts/s3rver/node_modules/.package-lock.json ]; then
	command -v npm >/dev/null 2>&1 || { echo "deps: npm is needed for scripts/s3rver (Debian package npm)"; exit 1; }
	echo "deps: installing s3rver (npm ci in scripts/s3rver)"
	(cd scripts/s3rver && npm ci --no-audit --no-fund --silent)
fi
# kinesalite (npm), a local Kinesis Data Streams, is the peer of
# ingest/kinesis's tests and of the Kinesis end-to-end test in cmd/tidal;
# scripts/kinesalite pins it with a lockfile, and the tests start it.
if ! [ -d scripts/kinesalite/node_modules/kinesalite ]; then
	command -v npm >/dev/null 2>&1 || { echo "deps: npm is needed for kinesalite (Debian package npm)"; exit 1; }
	echo "deps: installing kinesalite (npm)"
	(cd scripts/kinesalite && npm ci --no-audit --no-fund --silent)
fi
echo "deps: ok"

# The Grafana plugin (plugins/grafana): its Go module and npm packages.
(
	cd plugins/grafana
	echo "deps: plugins/grafana go modules"
	go mod download
	command -v npm >/dev/null || { echo "deps: npm is needed for plugins/grafana (Debian package npm)"; exit 1; }
	if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
		echo "deps: plugins/grafana npm ci"
		npm ci --no-audit --no-fund
	fi
)
echo "deps: plugin ok"
