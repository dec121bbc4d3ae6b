package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/internal/procmem"
	"github.com/tfseg/tfseg/tfops"
)

// unetPeakEnv turns TestUNetPeakMemoryChild on: "engine=go,size=1x572x572x1,runs=5".
const unetPeakEnv = "TFSEG_UNET_PEAK"

// unetPeakRuns is how many times each child runs the model.
const unetPeakRuns = 5

// unetPeakPrefix starts the one line a child prints.
const unetPeakPrefix = "unet-peak:"

// resetHWM sets VmHWM to the current VmRSS (Linux 4.0 and later), so that
// the next VmHWM is the peak of what ran in between.
func resetHWM() error { return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// maxRSS is getrusage(RUSAGE_SELF).Maxrss: the process's peak RSS in KiB
// on Linux.
func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return int64(ru.Maxrss)
}

// parsePeakSpec reads unetPeakEnv's value.
func parsePeakSpec(spec string) (eng string, dims []int, runs int, err error) {
	runs = unetPeakRuns
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return "", nil, 0, fmt.Errorf("%s=%q: %q is not key=value", unetPeakEnv, spec, kv)
		}
		switch k {
		case "engine":
			eng = v
		case "size":
			for _, d := range strings.Split(v, "x") {
				n, err := strconv.Atoi(d)
				if err != nil || n <= 0 {
					return "", nil, 0, fmt.Errorf("%s=%q: bad size %q", unetPeakEnv, spec, v)
				}
				dims = append(dims, n)
			}
		case "runs":
			if runs, err = strconv.Atoi(v); err != nil || runs <= 0 {
				return "", nil, 0, fmt.Errorf("%s=%q: bad runs %q", unetPeakEnv, spec, v)
			}
		default:
			return "", nil, 0, fmt.Errorf("%s=%q: unknown key %q", unetPeakEnv, spec, k)
		}
	}
	if eng == "" || len(dims) != 4 {
		return "", nil, 0, fmt.Errorf("%s=%q: want engine=NAME,size=NxHxWx1[,runs=N]", unetPeakEnv, spec)
	}
	return eng, dims, runs, nil
}

// TestUNetPeakMemoryChild is BenchmarkUNetPeak's child process, and
// skips unless unetPeakEnv is set. It loads the U-Net fixture as
// BenchmarkUNet does (tfseg.Load on the engine, GOMAXPROCS threads), makes
// the same input, runs the model `runs` times and prints one line (KiB):
//
//	unet-peak: engine=go size=1x572x572x1 runs=5 base=... load_hwm=... before=... run_hwm=... peak=... maxrss=... hwm_reset=true gogc=100 gomemlimit=off go_sys=... go_released=... num_gc=... go_live=...
//
// base is VmRSS before the load; load_hwm the peak (VmHWM) once the model
// is loaded and the input made, before the first run; before the VmRSS
// then; run_hwm the peak during the runs (VmHWM reset to VmRSS just before
// them when hwm_reset, else the peak since the start); peak the process's
// peak, max(load_hwm, run_hwm); maxrss getrusage's Maxrss at the end (the
// same peak, counted by the kernel). go_sys and go_released are the Go
// runtime's memory obtained from the OS and returned to it (MemStats.Sys,
// HeapReleased): the Go heap and runtime's share of the process; go_live
// the Go heap still in use after the runs (HeapAlloc after a collection,
// forced once everything else is read).
func TestUNetPeakMemoryChild(t *testing.T) {
	spec := os.Getenv(unetPeakEnv)
	if spec == "" {
		t.Skipf("BenchmarkUNetPeak's child process; runs only with %s set", unetPeakEnv)
	}
	eng, dims, runs, err := parsePeakSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	measurePeak(t, fmt.Sprintf("engine=%s size=%s", eng, sizeName(dims)), func() (func() error, func(), error) {
		m, err := tfseg.Load(unetFixture(t), tfseg.WithEngine(eng), tfseg.WithThreads(threads()))
		if err != nil {
			return nil, nil, err
		}
		in := map[string]*tfops.Tensor{"inputs": unetInput(dims)}
		run := func() error {
			_, err := m.Run(context.Background(), "serving_default", in)
			return err
		}
		return run, func() { m.Close() }, nil
	}, runs)
}

// measurePeak is a peak-memory child's measurement: load (which loads a
// model and makes its input, returning how to run it and close it), then
// runs times run, and one line printed (see TestUNetPeakMemoryChild)
// beginning with unetPeakPrefix and label.
func measurePeak(t *testing.T, label string, load func() (run func() error, closeFn func(), err error), runs int) {
	gogc := debug.SetGCPercent(100)
	debug.SetGCPercent(gogc)
	memLimit := debug.SetMemoryLimit(-1)
	if gogc != 100 || memLimit != math.MaxInt64 {
		t.Fatalf("GOGC=%d GOMEMLIMIT=%d: the peak is measured with the Go runtime's defaults (GOGC=100, no limit)", gogc, memLimit)
	}
	base, err := procmem.Read()
	if err != nil {
		t.Fatal(err)
	}
	run, closeFn, err := load()
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	loaded, err := procmem.Read()
	if err != nil {
		t.Fatal(err)
	}
	hwmReset := resetHWM() == nil
	for i := 0; i < runs; i++ {
		if err := run(); err != nil {
			t.Fatal(err)
		}
	}
	after, err := procmem.Read()
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	peakRSS := maxRSS()
	runtime.GC() // after the measurements: what of the Go heap is still live
	var live runtime.MemStats
	runtime.ReadMemStats(&live)
	fmt.Printf("%s %s runs=%d base=%d load_hwm=%d before=%d run_hwm=%d peak=%d maxrss=%d hwm_reset=%t gogc=%d gomemlimit=off go_sys=%d go_released=%d num_gc=%d go_live=%d\n",
		unetPeakPrefix, label, runs, base.RSS, loaded.HWM, loaded.RSS, after.HWM, max(loaded.HWM, after.HWM), peakRSS,
		hwmReset, gogc, ms.Sys>>10, ms.HeapReleased>>10, ms.NumGC, live.HeapAlloc>>10)
}

// unetPeak is one child's line, by key, in KiB.
type unetPeak map[string]int64

// runUNetPeakChild runs this test binary again as TestUNetPeakMemoryChild
// for engine eng at size dims, with GOMAXPROCS threads and GOGC,
// GOMEMLIMIT and GODEBUG removed from its environment (the runtime's
// defaults), and returns its line.
func runUNetPeakChild(eng string, dims []int, runs int) (unetPeak, error) {
	return runPeakChild("TestUNetPeakMemoryChild", unetPeakEnv, fmt.Sprintf("engine=%s,size=%s,runs=%d", eng, sizeName(dims), runs))
}

// runPeakChild runs this test binary again as test, with env set to spec,
// GOMAXPROCS threads and GOGC, GOMEMLIMIT and GODEBUG removed from its
// environment, and returns its unetPeakPrefix line.
func runPeakChild(test, env, spec string) (unetPeak, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1", "-test.timeout=10m")
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "GOGC", "GOMEMLIMIT", "GODEBUG", "GOMAXPROCS", unetPeakEnv, corpusPeakEnv:
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, fmt.Sprintf("GOMAXPROCS=%d", threads()), env+"="+spec)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var line string
	for _, l := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(l, unetPeakPrefix) {
			line = l
		}
	}
	if err != nil || line == "" {
		return nil, fmt.Errorf("child %s (err %v): no %q line\nstdout:\n%s\nstderr:\n%s", cmd, err, unetPeakPrefix, stdout.String(), stderr.String())
	}
	p := unetPeak{}
	for _, f := range strings.Fields(strings.TrimPrefix(line, unetPeakPrefix)) {
		k, v, _ := strings.Cut(f, "=")
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			p[k] = n
		}
	}
	for _, k := range []string{"base", "load_hwm", "before", "run_hwm", "peak"} {
		if _, ok := p[k]; !ok {
			return nil, fmt.Errorf("child line %q has no %s", line, k)
		}
	}
	return p, nil
}

// BenchmarkUNetPeak measures the peak resident memory (RSS) of a process
// that loads the U-Net fixture and runs it unetPeakRuns times, on each
// engine and size, every one in a fresh process (this binary run again as
// TestUNetPeakMemoryChild, one child per iteration):
//
//	BenchmarkUNetPeak/build=default/engine=go/size=1x572x572x1
//	BenchmarkUNetPeak/build=tensorflow/engine=tensorflow/size=1x572x572x1
//
// build is the test binary's: "default" (no libtensorflow: the process a
// user of the Go engine runs) or "tensorflow" (-tags tensorflow, where
// both engines run in a process with libtensorflow loaded and
// initialized). It reports, in MiB (the largest over the iterations):
//
//	peak-MiB  the process's peak RSS (VmHWM), load and runs together
//	run-MiB   the peak during the runs minus the RSS just before the first
//	          one: what running the model adds to the loaded process
//	load-MiB  the peak once the model is loaded, before the first run
//	base-MiB  the RSS before the load: the test binary with its libraries
//	          and runtime (libtensorflow's too in a -tags tensorflow build,
//	          whichever the engine)
//
// The children run with the Go runtime's defaults (GOGC=100, no
// GOMEMLIMIT): the Go engine's RSS includes the garbage its heap holds
// between collections, memory a user of it pays for. ns/op is the child's
// wall time (load and runs), not a figure to compare.
func BenchmarkUNetPeak(b *testing.B) {
	unetFixture(b)
	for _, e := range engines {
		for _, dims := range unetSizes {
			b.Run(fmt.Sprintf("build=%s/engine=%s/size=%s", buildName, e.name, sizeName(dims)), func(b *testing.B) {
				var worst unetPeak
				for i := 0; i < b.N; i++ {
					p, err := runUNetPeakChild(e.name, dims, unetPeakRuns)
					if err != nil {
						b.Fatal(err)
					}
					if worst == nil || p["peak"] > worst["peak"] {
						worst = p
					}
				}
				reportPeak(b, worst)
			})
		}
	}
}

// reportPeak reports a child's line in MiB (see BenchmarkUNetPeak).
func reportPeak(b *testing.B, p unetPeak) {
	mib := func(kib int64) float64 { return float64(kib) / 1024 }
	b.ReportMetric(mib(p["peak"]), "peak-MiB")
	b.ReportMetric(mib(p["run_hwm"]-p["before"]), "run-MiB")
	b.ReportMetric(mib(p["load_hwm"]), "load-MiB")
	b.ReportMetric(mib(p["base"]), "base-MiB")
}
