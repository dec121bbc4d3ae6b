#!/usr/bin/env bash
# check-generated.sh: regenerate every generated source file and fail when
# anything in the tree changes (a generated file edited by hand, or not
# regenerated after its generator or table changed).
#
# `go generate ./...` runs every generator:
#   - engine/goengine/internal/vec/simd_gen.go (from simd.go there):
#     simd_amd64.s, vecops_gen.go, vecops_amd64_gen.go and
#     vecops_ref_test.go, from the table of fusible ops;
#   - engine/goengine/internal/gemm/gemm_gen.go (from gemm.go): gemm_amd64.s;
#   - graphs/internal/genmodels (from graphs/export.go): models/.
# Not here: the goldens (scripts/check-goldens.sh, Python references) and
# engine/goengine/opdefaults.txt (TestOpDefaultsMatchTensorFlow compares it
# with libtensorflow under -tags tensorflow).
#
# Every file git tracks or would track is hashed before and after, so a
# generator that starts writing a new file is caught too.
#
# Usage: scripts/check-generated.sh    (scripts/test.sh runs it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

snapshot() {
	git ls-files -co --exclude-standard -z | xargs -0 -r sha256sum 2>/dev/null | sort -k2
}

before=$(mktemp)
after=$(mktemp)
trap 'rm -f "$before" "$after"' EXIT
snapshot >"$before"
go generate ./...
snapshot >"$after"

if ! cmp -s "$before" "$after"; then
	echo "check-generated: go generate ./... changed these files (edited by hand, or stale: commit what go generate writes):" >&2
	diff "$before" "$after" | awk '/^[<>]/ {print "  " $3}' | sort -u >&2
	git --no-pager diff --stat >&2 || true
	exit 1
fi
echo "check-generated: every generated file is what its generator writes"
