#!/usr/bin/env bash
# fuzz-smoke.sh runs every Go fuzz target in the module for a short time
# (default 10s each; a count such as 1000x also works and is what CI uses,
# as a short time limit can cut a worker off mid-input), so that a decoder
# that panics on new input fails CI.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-10s}"
status=0
while IFS= read -r line; do
	file="${line%%:*}"
	name="$(sed -E 's/^.*func (Fuzz[A-Za-z0-9_]+).*/\1/' <<<"$line")"
	pkg="./$(dirname "$file")"
	echo "fuzz: $pkg $name ($fuzztime)"
	# Run from the package's directory: nested modules (plugins/*) too.
	if ! (cd "$pkg" && go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" .) >/tmp/fuzz-$$.log 2>&1; then
		cat /tmp/fuzz-$$.log
		status=1
	fi
done < <(git ls-files '*_test.go' | xargs grep -H -E '^func Fuzz[A-Za-z0-9_]+\(' || true)
rm -f /tmp/fuzz-$$.log
exit $status
