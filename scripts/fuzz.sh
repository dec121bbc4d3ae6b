#!/usr/bin/env bash
# fuzz.sh: run every fuzz target of the module for a bounded time each.
#
#   scripts/fuzz.sh [PACKAGE ...]          (default: ./...)
#
# Targets are discovered with `go test -list 'Fuzz.*'` in every package whose
# test files define a Fuzz function, and run one at a time:
#
#   go test -run '^$' -fuzz '^Target$' -fuzztime $FUZZTIME -fuzzminimizetime 2s -parallel $FUZZ_PARALLEL
#
# Environment:
#   FUZZTIME       time per target (default 15s), anything -fuzztime takes
#   FUZZ_PARALLEL  fuzzing workers per target (default 1)
#   FUZZ_TARGETS   extended regexp: run only the targets it matches (default: all)
#   FUZZ_LOG       append "target seconds execs status" lines to this file
#   FUZZTIME_BASELINE  time for a second run of a target whose first one ended
#                  while still replaying its corpus (default 60s)
#
# A target that fails with nothing but Go 1.26's "context deadline exceeded"
# at the -fuzztime boundary (go.dev/issue/75804: no input written) runs once
# more; a second failure fails it.
#
# A crashing input is written by `go test` to PKG/testdata/fuzz/Target/, where
# plain `go test` replays it from then on: commit it with the fix. The script
# runs every target even after a failure and exits 1 when any failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fuzztime="${FUZZTIME:-15s}"
parallel="${FUZZ_PARALLEL:-1}"
filter="${FUZZ_TARGETS:-.}"
pkgs=("$@")
((${#pkgs[@]} > 0)) || pkgs=(./...)

# Packages whose _test.go files mention a fuzz function; `go test -list`
# (which compiles the tests) then says which targets they really have.
mapfile -t candidates < <(go list -f '{{.ImportPath}} {{.Dir}} {{join .TestGoFiles " "}} {{join .XTestGoFiles " "}}' "${pkgs[@]}" |
	while read -r path dir files; do
		[ -n "$files" ] || continue
		for f in $files; do
			if grep -q '^func Fuzz' "$dir/$f"; then
				echo "$path"
				break
			fi
		done
	done)

failed=()
ran=0
start_all=$SECONDS
for pkg in "${candidates[@]}"; do
	mapfile -t targets < <(go test -list 'Fuzz.*' "$pkg" | grep '^Fuzz' | grep -E -- "$filter" || true)
	for target in "${targets[@]}"; do
		printf '\n==== fuzz %s %s (%s) ====\n' "$pkg" "$target" "$fuzztime"
		start=$SECONDS
		status=ok
		out="$(mktemp)"
		for attempt in 1 2; do
			if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" -fuzzminimizetime 2s \
				-parallel "$parallel" "$pkg" 2>&1 | tee "$out" | grep -v -E '^fuzz: elapsed: .*(execs|gathering)' ; then
				:
			fi
			# Go 1.26's fuzzing coordinator can fail a target with a bare
			# "context deadline exceeded" at the -fuzztime boundary, with no
			# input written (a race in internal/fuzz when its workers miss the
			# stop: go.dev/issue/75804, fixed in Go 1.27). That output, and
			# only that (no failing input, panic or test error), is run once
			# more; a second failure of any kind fails the target.
			if ((attempt == 1)) && grep -q -x -E '[[:space:]]*context deadline exceeded' "$out" &&
				! grep -q -E 'Failing input|testdata/fuzz/|panic:|_test\.go:[0-9]+:' "$out"; then
				printf -- '---- %s: bare "context deadline exceeded" with no input written (go.dev/issue/75804): running it again\n' "$target"
				continue
			fi
			break
		done
		if ! grep -q -E '^(ok|PASS)' "$out" || grep -q -E '^(FAIL|--- FAIL)' "$out"; then
			status=FAIL
			failed+=("$pkg $target")
			grep -E 'testdata/fuzz|Failing input' "$out" || true
		fi
		# A run that never printed a progress line has no count: that is not a
		# failure, but when its output shows the fuzzer still replaying its
		# corpus for the baseline coverage (FuzzKernel's cached corpus of
		# ~1,900 inputs took all of 15s on one worker), it fuzzed nothing:
		# it runs once more for FUZZTIME_BASELINE (default 60s).
		execs="$({ grep -o -E 'execs: [0-9]+' "$out" || true; } | tail -1 | awk '{print $2}')"
		if [ "$status" = ok ] && [ -z "$execs" ] && grep -q 'gathering baseline coverage' "$out"; then
			printf -- '---- %s: still gathering baseline coverage at the end of %s: running it for %s\n' "$target" "$fuzztime" "${FUZZTIME_BASELINE:-60s}"
			if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME_BASELINE:-60s}" -fuzzminimizetime 2s \
				-parallel "$parallel" "$pkg" 2>&1 | tee "$out" | grep -v -E '^fuzz: elapsed: .*(execs|gathering)'; then
				:
			fi
			if ! grep -q -E '^(ok|PASS)' "$out" || grep -q -E '^(FAIL|--- FAIL)' "$out"; then
				status=FAIL
				failed+=("$pkg $target")
				grep -E 'testdata/fuzz|Failing input' "$out" || true
			fi
			execs="$({ grep -o -E 'execs: [0-9]+' "$out" || true; } | tail -1 | awk '{print $2}')"
		fi
		rm -f "$out"
		secs=$((SECONDS - start))
		ran=$((ran + 1))
		printf -- '---- %s %s: %ds, %s execs\n' "$target" "$status" "$secs" "${execs:-0}"
		if [ -n "${FUZZ_LOG:-}" ]; then
			printf '%s %s %d %s %s\n' "$pkg" "$target" "$secs" "${execs:-0}" "$status" >>"$FUZZ_LOG"
		fi
	done
done

printf '\nfuzz: %d targets in %ds\n' "$ran" "$((SECONDS - start_all))"
((ran > 0)) || { echo "fuzz: no fuzz targets found" >&2; exit 1; }
if ((${#failed[@]} > 0)); then
	printf 'FAIL: %s\n' "${failed[@]}" >&2
	exit 1
fi
