#!/usr/bin/env bash
# scale.sh: tfseg-beam at scale on this machine (the README's numbers).
#
# Writes the demo model and 20,000 noisy-circles images of 128x128
# (tfseg demo --images 20000 --eval=false; not committed), starts Prism's
# job server (Beam's cmd/prism), and runs tfseg-beam eval through it with
# PROCESS workers (the runner starts this same binary as the SDK worker) on
# the first 2,000 and on all 20,000 images, with --workers 1 and 2. For each
# run: wall time, images per second, the peak RSS (VmHWM) of the worker
# process, the largest Go heap (HeapAlloc, sampled every 100 ms: live
# data and garbage not yet collected) and the largest live heap (what the
# garbage collector kept) of the worker, and the peak RSS of Prism and of
# the launcher. WORKDIR/worker-series-SIZE-WORKERS holds the worker's
# memory over time (TFSEG_BEAM_WORKER_SERIES), WORKDIR/worker-heap-SIZE-
# WORKERS.pprof its heap profile at its largest RSS (and .T every 10 s).
#
#   beam/scripts/scale.sh [WORKDIR]    (default: a new temporary directory)
#
# N=20000 SIZES="2000 20000" WORKERS="1 2" override the defaults;
# LIMITS="0 64" also runs each with the worker's GOMEMLIMIT at 64 MiB
# (0: none, the default; the README's table).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work="${1:-$(mktemp -d -t tfseg-beam-scale-XXXXXX)}"
mkdir -p "$work"
n="${N:-20000}"
sizes="${SIZES:-2000 20000}"
workers="${WORKERS:-1 2}"
limits="${LIMITS:-0}"
export GOWORK=off CGO_ENABLED=0

echo "work dir $work; $(nproc) CPUs; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
go build -o "$work/bin/" ./cmd/tfseg-beam github.com/apache/beam/sdks/v2/go/cmd/prism
(cd .. && go build -o "$work/bin/" ./cmd/tfseg)
if [ ! -f "$work/demo/data/images/circle_$(printf %05d $((n - 1))).png" ]; then
	start=$SECONDS
	"$work/bin/tfseg" demo --out "$work/demo" --images "$n" --eval=false >/dev/null
	echo "wrote $n images of 128x128 in $((SECONDS - start)) s"
fi

peak() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

port=$((20000 + RANDOM % 20000))
printf '\n%-7s %-7s %-9s %8s %9s %14s %15s %15s %13s %16s %s\n' images workers "memlimit" "wall (s)" images/s "worker RSS MiB" "worker heap MiB" "worker live MiB" "Prism RSS MiB" "launcher RSS MiB" "load avg"
for limit in $limits; do
for size in $sizes; do
	case $size in
	"$n") glob="*.png" ;;
	2000) glob="circle_0[01][0-9][0-9][0-9].png" ;;
	*) echo "size $size: only 2000 and $n are set up" >&2; exit 2 ;;
	esac
	for w in $workers; do
		rss="$work/worker-rss-$size-$w"
		rm -f "$rss"
		port=$((port + 1))
		TFSEG_BEAM_WORKER_GOMEMLIMIT="${limit#0}" TFSEG_BEAM_WORKER_RSS="$rss" TFSEG_BEAM_WORKER_SERIES="$work/worker-series-$size-$w" \
			TFSEG_BEAM_WORKER_HEAPPROF="$work/worker-heap-$size-$w.pprof" "$work/bin/prism" --job_port=$port --serve_http=false >"$work/prism-$size-$w.log" 2>&1 &
		prism=$!
		for _ in $(seq 100); do (echo >/dev/tcp/localhost/$port) 2>/dev/null && break; sleep 0.1; done
		out="$work/out-$size-$w"
		rm -rf "$out"
		start=$(date +%s.%N)
		"$work/bin/tfseg-beam" eval --model "$work/demo/model" --images "$work/demo/data/images/$glob" \
			--masks "$work/demo/data/masks/$glob" --out "$out" --workers "$w" --progress 30s \
			--runner=universal --endpoint=localhost:$port --environment_type=PROCESS \
			--environment_config="{\"command\": \"$work/bin/tfseg-beam\"}" >"$work/run-$size-$w.log" 2>&1 &
		launcher=$!
		lpeak=0
		while kill -0 $launcher 2>/dev/null; do
			p=$(peak $launcher); [ "${p:-0}" -gt "$lpeak" ] && lpeak=$p
			sleep 0.5
		done
		wait $launcher || { echo "run failed: see $work/run-$size-$w.log" >&2; kill $prism; exit 1; }
		end=$(date +%s.%N)
		ppeak=$(peak $prism)
		kill $prism; wait $prism 2>/dev/null || true
		done_images=$(grep -o '[0-9]* images ([0-9]* skipped)' "$work/run-$size-$w.log" | cut -d' ' -f1)
		wpeak=$(awk '{print $1}' "$rss" 2>/dev/null || echo 0)
		wheap=$(awk '{print $4}' "$rss" 2>/dev/null || echo 0)
		wlive=$(awk '{print $6}' "$rss" 2>/dev/null || echo 0)
		awk -v n="$done_images" -v s="$start" -v e="$end" -v w="$w" -v lim="$limit" -v wp="$wpeak" -v wh="$wheap" -v wl="$wlive" -v pp="$ppeak" -v lp="$lpeak" -v la="$(cut -d' ' -f1-3 /proc/loadavg)" \
			'BEGIN {printf "%-7d %-7d %-9s %8.1f %9.1f %14.0f %15d %15d %13.0f %16.0f %s\n", n, w, (lim == 0 ? "none" : lim " MiB"), e-s, n/(e-s), wp/1024, wh, wl, pp/1024, lp/1024, la}'
	done
done
done
