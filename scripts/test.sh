#!/usr/bin/env bash
# test.sh is `make test`, what CI runs: install what the tests need, lint,
# every test, the race detector over the packages with concurrency, and a
# fuzz smoke of every Fuzz target. Each phase prints a banner with the time
# elapsed, and a line a minute while a phase runs, so a quiet compile does not
# look hung. The budget is 15 minutes on a fresh two-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# Packages with concurrency (goroutines, locks, atomics, channels in the
# package or its tests), run again under the race detector. The others are
# single-threaded code whose race run would only cost a race-instrumented
# build of their test dependencies.
RACE_PKGS="./catalog ./memstore ./memstore/wal ./magnetic ./magnetic/encoding ./ingest/promrw
./internal/sigv4 ./internal/auth ./internal/fileutil ./query/exec ./query/promapi ./query/timestreamapi
./scheduled ./query/unload ./internal/tombstone ./query/deletes ./ingest/kafka ./ingest/kinesis ./ingest/mqtt ./ingest/firehose ./ingest/pipeline ./snapshot ./ingest/lineproto"
# Single-threaded tests in those packages that the race detector only slows
# down (each takes 20 s or more under -race); the plain phase runs them.
# TestCompressionReport: compression ratios over large inputs.
# TestAppendLimits: 80 MiB of records at the WAL's size limits.
RACE_SKIP='^(TestCompressionReport|TestAppendLimits)$'
FUZZTIME="${FUZZTIME:-1000x}"

start=$(date +%s)
heartbeat_pid=""
phase() {
	stop_heartbeat
	printf '\n=== %s (%ds elapsed)\n' "$1" $(($(date +%s) - start))
	(while sleep 60; do printf -- '--- %s: still running (%ds elapsed)\n' "$1" $(($(date +%s) - start)); done) &
	heartbeat_pid=$!
}
stop_heartbeat() {
	if [ -n "$heartbeat_pid" ]; then
		kill "$heartbeat_pid" 2>/dev/null || true
		wait "$heartbeat_pid" 2>/dev/null || true
		heartbeat_pid=""
	fi
}
trap stop_heartbeat EXIT

deps() {
	phase "deps: Go modules, Debian packages"
	./scripts/deps.sh
}

lint() {
	phase "lint: gofmt, go vet, tidal-lint"
	./scripts/lint.sh
}

unit() {
	phase "test: go test ./..."
	# One build of tidal for the end-to-end tests of cmd/tidal and bench
	# (each would otherwise link its own, bench once per test).
	mkdir -p bin
	go build -o bin/tidal-e2e ./cmd/tidal
	TIDAL_TEST_BIN="$PWD/bin/tidal-e2e" TIDAL_BENCH_TIDAL_BIN="$PWD/bin/tidal-e2e" go test -count=1 ./...
}

race() {
	phase "race: go test -race over the concurrent packages"
	# shellcheck disable=SC2086 # word splitting of the package list is wanted
	go test -count=1 -race -skip "$RACE_SKIP" $RACE_PKGS
}

plugin() {
	phase "plugin: build the Grafana plugin, its Go and frontend tests"
	make --no-print-directory plugin-test
}

fuzz() {
	phase "fuzz: every Fuzz target for $FUZZTIME"
	./scripts/fuzz-smoke.sh "$FUZZTIME"
}

# With arguments, only the phases named (deps lint unit race plugin fuzz).
phases=("$@")
[ ${#phases[@]} -gt 0 ] || phases=(deps lint unit race plugin fuzz)
for p in "${phases[@]}"; do
	case "$p" in
	deps | lint | unit | race | plugin | fuzz) "$p" ;;
	*)
		echo "test.sh: unknown phase $p (want deps lint unit race plugin fuzz)" >&2
		exit 2
		;;
	esac
done

stop_heartbeat
printf '\n=== %s passed in %ds\n' "${phases[*]}" $(($(date +%s) - start))
