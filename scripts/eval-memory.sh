#!/bin/sh
# Measures the peak resident memory of `tfseg eval` on noisy-circles
# datasets of 256x256 images, 200 and 2000 of them (or the counts given as
# arguments), to show that memory is bounded by the batches in flight and
# not by the dataset size. Needs GNU time (/usr/bin/time -v).
#
#   scripts/eval-memory.sh [N...]     (default: 200 2000)
#
# Each dataset is written by `tfseg demo --size 256 --eval=false`; the
# measured run is `tfseg eval` on it, with the default batch (8) and
# workers (2).
set -eu
cd "$(dirname "$0")/.."
counts=${*:-"200 2000"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/tfseg" ./cmd/tfseg
printf '%8s  %14s  %10s  %s\n' images peak_rss_MiB seconds mean_dice
for n in $counts; do
	out="$work/demo-$n"
	"$work/tfseg" demo --out "$out" --images "$n" --size 256 --eval=false >/dev/null
	/usr/bin/time -v -o "$work/time-$n" "$work/tfseg" eval --model "$out/model" \
		--images "$out/data/images" --masks "$out/data/masks" --json "$work/report-$n.json" >/dev/null 2>"$work/err-$n" || {
		cat "$work/err-$n" >&2
		exit 1
	}
	rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$work/time-$n")
	secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time-$n")
	dice=$(/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(next(round(s['mean'],4) for s in r['summary'] if s['name']=='dice_coef'))" "$work/report-$n.json")
	printf '%8s  %14.1f  %10s  %s\n' "$n" "$(echo "$rss" | awk '{print $1/1024}')" "$secs" "$dice"
done
