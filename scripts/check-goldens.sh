#!/usr/bin/env bash
# check-goldens.sh: regenerate every golden file from its independent
# reference script and fail when anything in the tree changes.
#
# The generators are the scripts/goldens_*.py and scripts/gen_*goldens*.py
# scripts (losses: goldens_losses.py; weight maps: goldens_weightmap.py;
# .npy files, NN kernels, baseline model: the others). They run with the
# Debian interpreter /usr/bin/python3 (python3-numpy, python3-scipy,
# python3-torch) and are deterministic, so a change under a testdata/
# directory means a committed golden
# is not what its script produces (or a script is not deterministic).
#
# Usage: scripts/check-goldens.sh    (scripts/test.sh runs it as its last step)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PY=/usr/bin/python3
[ -x "$PY" ] || { echo "check-goldens: $PY not found (apt-get install python3-numpy python3-scipy python3-torch)" >&2; exit 1; }

# Every golden lives in a testdata/ directory; only those files are compared,
# so unrelated edits in a working tree do not count.
snapshot() {
	git ls-files -co --exclude-standard -z -- '*testdata/*' | xargs -0 -r sha256sum 2>/dev/null | sort -k2
}

before=$(mktemp)
after=$(mktemp)
trap 'rm -f "$before" "$after"' EXIT
snapshot >"$before"

ran=0
for script in scripts/goldens_*.py scripts/gen_*goldens*.py; do
	[ -f "$script" ] || continue
	echo "check-goldens: $PY $script"
	"$PY" "$script"
	ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || { echo "check-goldens: no golden scripts found" >&2; exit 1; }

# The Keras side needs TensorFlow 2.x, which CI does not have: it must at
# least compile, as must every golden script.
pycache=$(mktemp -d)
PYTHONPYCACHEPREFIX="$pycache" "$PY" -m py_compile python/export_losses.py scripts/*.py
rm -rf "$pycache"
echo "check-goldens: python/export_losses.py and scripts/*.py compile"

snapshot >"$after"
if ! diff -q "$before" "$after" >/dev/null; then
	echo "check-goldens: FAILED: regenerating the goldens changed these files:" >&2
	diff "$before" "$after" | grep '^[<>]' | awk '{print "  " $3}' | sort -u >&2
	echo "(commit the regenerated files, or find what made a generator non-deterministic)" >&2
	exit 1
fi
echo "check-goldens: $ran generators, goldens unchanged"
