#!/usr/bin/env bash
# bench.sh: the Go engine against real TensorFlow, as one table.
#
#   1. measures this machine's limits (scripts/benchtable limits): read,
#      copy and triad memory bandwidth; FP32 FMA peak (AVX-512/AVX2 assembly
#      loops where the CPU has them, a scalar Go loop always)
#   2. runs, with -tags tensorflow so both engines are in one binary,
#      BenchmarkLoss and BenchmarkUNet (package bench) and
#      BenchmarkWeightmap/size=1024x1024/objects=50 (package weightmap),
#      -count BENCH_COUNT times with -cpu BENCH_CPU
#   3. measures the U-Net's peak memory: BenchmarkUNetPeak (package bench)
#      runs, per engine and size, a fresh process that loads the fixture and
#      runs it 5 times, and reports its peak RSS (VmHWM); the Go engine from
#      the default build (its own process, no libtensorflow) and from the
#      -tags tensorflow binary, TensorFlow from the latter; BENCH_COUNT
#      processes each, with GOGC and GOMEMLIMIT at the runtime's defaults
#   4. prints per benchmark the Go and TensorFlow medians with their spread,
#      Go/TF, each as a share of the machine's limit, and issue 7's targets,
#      then the U-Net peak-memory table: Go's and TensorFlow's peak RSS and
#      whether Go's is no higher (scripts/benchtable table)
#
# Environment:
#   BENCH_COUNT   repeats per benchmark (default 5)
#   BENCH_CPU     GOMAXPROCS and engine threads (default 2)
#   BENCH_TIME    -benchtime (default 1s; slow benchmarks then run once per repeat)
#   BENCH_FILTER  -bench regexp for package bench (default Loss|UNet; e.g. 'Loss/name=focal';
#                 BenchmarkUNetPeak is never part of it: see BENCH_PEAK)
#   BENCH_WEIGHTMAP  set to 0 to skip the weight-map benchmark
#   BENCH_PEAK    set to 0 to skip the U-Net peak-memory step
#   BENCH_OUT     directory for bench.txt, limits.json, table.md (default: a temp dir)
#   BENCH_PROFILE set to 1 to also CPU-profile the Go engine on focal
#                 16x512x512x1 and U-Net 1x572x572x1 (focal.prof, unet.prof)
#                 and print each profile's top 10 functions
#
# The default run takes about 9 minutes on an idle 2-core machine (the
# peak-memory step about one of them). Results are only as good as the
# machine is quiet: the script prints the load average before and after.
#
# A profile of any one benchmark by hand:
#   go test -run '^$' -bench 'Loss/name=focal/engine=go' -benchtime 3x -cpu 2 \
#     -cpuprofile /tmp/focal.prof ./bench && go tool pprof -top /tmp/focal.prof
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

count="${BENCH_COUNT:-5}"
cpu="${BENCH_CPU:-2}"
benchtime="${BENCH_TIME:-1s}"
filter="${BENCH_FILTER:-Loss|UNet}"
out="${BENCH_OUT:-$(mktemp -d)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

fail() {
	printf 'bench.sh: %s\n' "$*" >&2
	exit 1
}
load() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime; }

tf_env="$(scripts/install-libtensorflow.sh --check --env)" ||
	fail "libtensorflow is not installed: run scripts/install-libtensorflow.sh first"
eval "$tf_env"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

echo "== building (results in $out)"
go build -o "$out/benchtable" ./scripts/benchtable
go test -c -tags tensorflow -o "$out/bench.test" ./bench
if [ "${BENCH_PEAK:-1}" != 0 ]; then
	go test -c -o "$out/bench-default.test" ./bench # the Go engine without libtensorflow
fi
if [ "${BENCH_WEIGHTMAP:-1}" != 0 ]; then
	go test -c -o "$out/weightmap.test" ./weightmap
fi

echo "== load average before: $(load) (on $(nproc) CPUs)"
echo "== machine limits ($cpu threads)"
GOMAXPROCS="$cpu" "$out/benchtable" limits -threads "$cpu" -o "$out/limits.json"

: >"$out/bench.txt"
echo "== go test -bench '$filter' -count $count -cpu $cpu -benchtime $benchtime ./bench"
(cd bench && "$out/bench.test" -test.run '^$' -test.bench "$filter" -test.skip '^BenchmarkUNetPeak$' \
	-test.count "$count" -test.cpu "$cpu" -test.benchtime "$benchtime" -test.timeout 60m) | tee -a "$out/bench.txt"
if [ "${BENCH_PEAK:-1}" != 0 ]; then
	# One child process per iteration (-benchtime 1x); the two builds take
	# turns, BENCH_COUNT times.
	echo "== U-Net peak memory: go test -bench '^BenchmarkUNetPeak\$' -benchtime 1x, default and tensorflow builds, $count times"
	for _ in $(seq "$count"); do
		for t in bench-default.test bench.test; do
			(cd bench && "$out/$t" -test.run '^$' -test.bench '^BenchmarkUNetPeak$' -test.count 1 \
				-test.cpu "$cpu" -test.benchtime 1x -test.timeout 30m) | tee -a "$out/bench.txt"
		done
	done
fi
if [ "${BENCH_WEIGHTMAP:-1}" != 0 ]; then
	echo "== go test -bench 'Weightmap/size=1024x1024/objects=50' ./weightmap"
	(cd weightmap && "$out/weightmap.test" -test.run '^$' -test.bench 'BenchmarkWeightmap/size=1024x1024/objects=50$' \
		-test.count "$count" -test.cpu "$cpu" -test.benchtime "$benchtime") | tee -a "$out/bench.txt"
	# SciPy on the same mask, in the same run: the weight map's reference.
	if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import scipy' 2>/dev/null; then
		echo "== SciPy on the same mask (scripts/bench_weightmap_scipy.py)"
		/usr/bin/python3 scripts/bench_weightmap_scipy.py --repeat "$count" | tee "$out/scipy.txt"
	else
		echo "== SciPy not installed (apt-get install python3-scipy): no reference time for the weight map"
	fi
fi
echo "== load average after: $(load)"

if [ "${BENCH_PROFILE:-0}" = 1 ]; then
	for p in "focal Loss/name=focal/engine=go/size=16x512x512x1 3x" "unet UNet/engine=go/size=1x572x572x1 2x"; do
		set -- $p
		echo "== CPU profile: $2 ($out/$1.prof; the setup outside the timed loop is in it too)"
		(cd bench && "$out/bench.test" -test.run '^$' -test.bench "$2\$" -test.benchtime "$3" -test.cpu "$cpu" \
			-test.cpuprofile "$out/$1.prof") | grep '^Benchmark'
		go tool pprof -top "$out/bench.test" "$out/$1.prof" 2>/dev/null | sed -n '/flat%/,+10p'
	done
fi

echo
"$out/benchtable" table -limits "$out/limits.json" "$out/bench.txt" | tee "$out/table.md"
if [ -s "$out/scipy.txt" ]; then
	go_ns=$(awk '/^BenchmarkWeightmap\/size=1024x1024\/objects=50/ {print $3}' "$out/bench.txt" | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}')
	sp_ms=$(awk '/^BenchmarkWeightmap.* scipy:/ {print $(NF-1)}' "$out/scipy.txt")
	if [ -n "$go_ns" ] && [ -n "$sp_ms" ]; then
		awk -v g="$go_ns" -v s="$sp_ms" 'BEGIN {printf "\nWeightmap 1024x1024/50 objects: Go median %.1f ms, SciPy best %.1f ms: Go/SciPy %.3fx\n", g/1e6, s, (g/1e6)/s}' | tee -a "$out/table.md"
	fi
fi
echo
echo "raw results: $out/bench.txt; limits: $out/limits.json; table: $out/table.md"
