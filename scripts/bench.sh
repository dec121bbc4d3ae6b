#!/usr/bin/env bash
# bench.sh: the Go engine against real TensorFlow, as one table.
#
#   1. measures this machine's limits (scripts/benchtable limits): read,
#      copy and triad memory bandwidth; FP32 FMA peak (AVX-512/AVX2 assembly
#      loops where the CPU has them, a scalar Go loop always); the FP32 peak
#      again at the start of each round of step 2 (benchtable peak): the
#      table's U-Net shares are of those samples' median
#   2. runs, with -tags tensorflow so both engines are in one binary,
#      BenchmarkLoss and BenchmarkUNet (package bench) and
#      BenchmarkWeightmap/size=1024x1024/objects=50 (package weightmap),
#      -count BENCH_COUNT times with -cpu BENCH_CPU (in BENCH_COUNT rounds
#      that each also time the peers of step 4, see BENCH_INTERLEAVE)
#   3. measures the U-Net's peak memory: BenchmarkUNetPeak (package bench)
#      runs, per engine and size, a fresh process that loads the fixture and
#      runs it 5 times, and reports its peak RSS (VmHWM); the Go engine from
#      the default build (its own process, no libtensorflow) and from the
#      -tags tensorflow binary, TensorFlow from the latter; BENCH_COUNT
#      processes each, with GOGC and GOMEMLIMIT at the runtime's defaults
#   4. the peers (BENCH_PEERS=0 skips them): PyTorch (Debian's python3-torch,
#      torch.set_num_threads(BENCH_CPU), OPENBLAS_NUM_THREADS=1) and ONNX
#      Runtime (npm onnxruntime-node@1.31.1, installed with --ignore-scripts
#      into BENCH_CACHE: the tarball ships the Linux library; BENCH_CPU
#      intra-op threads) on the same work and inputs: TestWritePeerData
#      (package bench) writes the inputs, the Go engine's outputs and the
#      U-Net fixture's variables as .npy; scripts/bench_peers.py builds the
#      losses in torch ops and the U-Net as torch modules with those weights,
#      checks each output against Go's (1e-4 of its scale, or the run fails),
#      exports each to ONNX and times it; scripts/bench_ort.js checks and
#      times the ONNX models; both also report the U-Net's peak RSS in a
#      fresh process
#   5. prints per benchmark the Go, TensorFlow, PyTorch and ONNX Runtime
#      medians with their spread, Go/TF, Go/PyTorch and Go/ORT, Go's and the
#      best peer's share of the machine's limit, and issue 16's targets,
#      then the U-Net peak-memory table: every engine's peak RSS and
#      whether Go's is no higher than TensorFlow's and ONNX Runtime's
#      (scripts/benchtable table)
#
# Environment:
#   BENCH_COUNT   repeats per benchmark (default 5)
#   BENCH_INTERLEAVE  set to 0 to run the go test binary's BENCH_COUNT repeats
#                 back to back, then each peer's (default: BENCH_COUNT rounds,
#                 each timing every engine once, so a slow minute of a shared
#                 host moves one sample of each engine, not all of one's)
#   BENCH_CPU     GOMAXPROCS and engine threads (default 2)
#   BENCH_TIME    -benchtime (default 1s; slow benchmarks then run once per repeat)
#   BENCH_FILTER  -bench regexp for package bench (default Loss|UNet; e.g. 'Loss/name=focal';
#                 BenchmarkUNetPeak is never part of it: see BENCH_PEAK)
#   BENCH_WEIGHTMAP  set to 0 to skip the weight-map benchmark
#   BENCH_PEAK    set to 0 to skip the U-Net peak-memory step
#   BENCH_OUT     directory for bench.txt, limits.json, table.md (default: a temp dir)
#   BENCH_CORPUS  set to 0 to skip the corpus models' peak memory (BenchmarkCorpusPeak:
#                 one process per model and engine, ../shared/fixtures/corpus)
#   BENCH_PEERS   set to 0 to skip PyTorch and ONNX Runtime
#   BENCH_PEERS_FILTER  run only the peer cases whose name contains this (e.g. UNet)
#   BENCH_CACHE   where onnxruntime-node is installed (default ~/.cache/tfseg-bench)
#   BENCH_PROFILE set to 1 to also CPU-profile the Go engine on focal
#                 16x512x512x1 and U-Net 1x572x572x1 (focal.prof, unet.prof)
#                 and print each profile's top 10 functions
#
# The default run takes about 6 minutes on an idle 2-core machine (333 s
# on 2026-12-08's Zen 5 VM; the peak-memory steps about one of them).
# Results are only as good as the machine is quiet: the script prints the
# load average before and after.
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
if [ "${BENCH_PEAK:-1}" != 0 ] || [ "${BENCH_CORPUS:-1}" != 0 ]; then
	go test -c -o "$out/bench-default.test" ./bench # the Go engine without libtensorflow
fi
if [ "${BENCH_WEIGHTMAP:-1}" != 0 ]; then
	go test -c -o "$out/weightmap.test" ./weightmap
fi

# peers_setup installs what the peers need where it is missing: node and
# npm, Debian's PyTorch and NumPy (apt-get, as root or through sudo), and
# onnxruntime-node in the cache directory.
ort_version=1.31.1
ort_dir="${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tfseg-bench}/onnxruntime-node-$ort_version"
peers_setup() {
	local sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	local pkgs=()
	command -v node >/dev/null || pkgs+=(nodejs)
	command -v npm >/dev/null || pkgs+=(npm)
	/usr/bin/python3 -c 'import torch, numpy' 2>/dev/null || pkgs+=(python3-torch python3-numpy)
	if [ ${#pkgs[@]} -gt 0 ]; then
		echo "== installing ${pkgs[*]} (apt-get)"
		$sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null ||
			fail "could not install ${pkgs[*]}: install them, or set BENCH_PEERS=0"
	fi
	if [ ! -f "$ort_dir/node_modules/onnxruntime-node/package.json" ]; then
		echo "== installing onnxruntime-node@$ort_version into $ort_dir (npm, --ignore-scripts)"
		mkdir -p "$ort_dir"
		[ -f "$ort_dir/package.json" ] || echo '{"name": "tfseg-bench-ort", "private": true}' >"$ort_dir/package.json"
		(cd "$ort_dir" && npm install --ignore-scripts --no-audit --no-fund "onnxruntime-node@$ort_version" >/dev/null) ||
			fail "npm install onnxruntime-node@$ort_version failed"
	fi
	export NODE_PATH="$ort_dir/node_modules"
	node -e 'require("onnxruntime-node")' || fail "onnxruntime-node does not load from $NODE_PATH"
}
peers="${BENCH_PEERS:-1}"
if [ "$peers" != 0 ]; then
	peers_setup
fi
# The peers' seconds per round, from BENCH_TIME ("1s", "500ms"; "Nx": one second).
peer_time=$(awk -v t="$benchtime" 'BEGIN { if (t ~ /ms$/) print (t + 0) / 1000; else if (t ~ /s$/) print t + 0; else print 1 }')

echo "== load average before: $(load) (on $(nproc) CPUs)"
echo "== machine limits ($cpu threads)"
GOMAXPROCS="$cpu" "$out/benchtable" limits -threads "$cpu" -o "$out/limits.json"

: >"$out/bench.txt"
if [ "$peers" != 0 ]; then
	echo "== peers: writing the inputs, the Go engine's outputs and the U-Net's weights (TestWritePeerData)"
	(cd bench && TFSEG_BENCH_PEERS_DIR="$out/peers" "$out/bench.test" -test.run '^TestWritePeerData$' -test.count 1 -test.cpu "$cpu") >/dev/null ||
		fail "TestWritePeerData failed"
fi
# Every engine is timed in each of BENCH_COUNT rounds (the Go engine and
# TensorFlow in one go test run, then PyTorch, then ONNX Runtime), so that
# a minute when this shared host is slow moves one sample of each engine
# rather than all five of one; BENCH_INTERLEAVE=0 runs all of the Go test
# binary's rounds first, then each peer's.
rounds=1 per="$count"
if [ "${BENCH_INTERLEAVE:-1}" != 0 ]; then
	rounds="$count" per=1
fi
for round in $(seq "$rounds"); do
	# The FP32 peak of this round (the table's yardstick for the U-Net is
	# the median of these: see benchtable peak).
	GOMAXPROCS="$cpu" "$out/benchtable" peak -threads "$cpu" | tee -a "$out/bench.txt"
	echo "== round $round of $rounds: go test -bench '$filter' -count $per -cpu $cpu -benchtime $benchtime ./bench"
	(cd bench && "$out/bench.test" -test.run '^$' -test.bench "$filter" -test.skip '^BenchmarkUNetPeak$' \
		-test.count "$per" -test.cpu "$cpu" -test.benchtime "$benchtime" -test.timeout 60m) | tee -a "$out/bench.txt"
	[ "${PIPESTATUS[0]}" = 0 ] || fail "go test -bench failed"
	if [ "$peers" != 0 ]; then
		echo "== round $round of $rounds: PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'): scripts/bench_peers.py, $per rounds of ${peer_time}s, $cpu threads"
		/usr/bin/python3 scripts/bench_peers.py --data "$out/peers" --count "$per" --time "$peer_time" --threads "$cpu" \
			--filter "${BENCH_PEERS_FILTER:-}" | tee -a "$out/bench.txt"
		[ "${PIPESTATUS[0]}" = 0 ] || fail "scripts/bench_peers.py failed"
		echo "== round $round of $rounds: ONNX Runtime $ort_version: scripts/bench_ort.js, $per rounds of ${peer_time}s, $cpu intra-op threads"
		node scripts/bench_ort.js --data "$out/peers" --count "$per" --time "$peer_time" --threads "$cpu" \
			--filter "${BENCH_PEERS_FILTER:-}" | tee -a "$out/bench.txt"
		[ "${PIPESTATUS[0]}" = 0 ] || fail "scripts/bench_ort.js failed"
	fi
done
if [ "${BENCH_PEAK:-1}" != 0 ]; then
	# One child process per iteration (-benchtime 1x); the two builds take
	# turns, BENCH_COUNT times.
	echo "== U-Net peak memory: go test -bench '^BenchmarkUNetPeak\$' -benchtime 1x, default and tensorflow builds, $count times"
	for _ in $(seq "$count"); do
		for t in bench-default.test bench.test; do
			(cd bench && "$out/$t" -test.run '^$' -test.bench '^BenchmarkUNetPeak$' -test.count 1 \
				-test.cpu "$cpu" -test.benchtime 1x -test.timeout 30m) | tee -a "$out/bench.txt"
		done
		if [ "$peers" != 0 ]; then
			for size in 1x572x572x1 4x188x188x1; do
				# Only the sizes the peers ran (BENCH_PEERS_FILTER): their ONNX model.
				[ -f "$out/peers/UNet_size-$size.onnx" ] || continue
				/usr/bin/python3 scripts/bench_peers.py --data "$out/peers" --threads "$cpu" --peak "$size" | tee -a "$out/bench.txt"
				node scripts/bench_ort.js --data "$out/peers" --threads "$cpu" --peak "$size" | tee -a "$out/bench.txt"
			done
		fi
	done
fi
if [ "${BENCH_CORPUS:-1}" != 0 ]; then
	# One fresh process per corpus model and engine: the Go engine in its
	# own build, TensorFlow in the tensorflow build.
	echo "== corpus models' peak memory: go test -bench '^BenchmarkCorpusPeak\$' -benchtime 1x"
	(cd bench && "$out/bench-default.test" -test.run '^$' -test.bench '^BenchmarkCorpusPeak$' -test.count 1 \
		-test.cpu "$cpu" -test.benchtime 1x -test.timeout 60m) | tee -a "$out/bench.txt"
	(cd bench && "$out/bench.test" -test.run '^$' -test.bench '^BenchmarkCorpusPeak/build=tensorflow/engine=tensorflow/' -test.count 1 \
		-test.cpu "$cpu" -test.benchtime 1x -test.timeout 60m) | tee -a "$out/bench.txt"
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
