package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"time"
)

// Limits are this machine's measured ceilings.
type Limits struct {
	ReadGBps   float64 // read-only streaming bandwidth, all threads
	CopyGBps   float64 // copy(): bytes read + written
	TriadGBps  float64 // a = b + s·c in Go: 3 arrays' bytes (STREAM's count)
	PeakGFLOPs float64 // the widest FMA loop, all threads
	ReadKernel string
	PeakKernel string
	FMA        []Measured // every FMA loop run

	// Set by Render from BenchmarkLimits/fp32 results (benchtable peak,
	// one per round of scripts/bench.sh): their median replaces
	// PeakGFLOPs, whose measured value moves to StartPeak.
	RoundPeaks []float64 `json:"-"`
	StartPeak  float64   `json:"-"`
}

// Measured is one FMA loop's rate.
type Measured struct {
	Kernel string
	GFLOPs float64
}

// fmaKernel is an FMA throughput loop: run(iters) does flopsPerIter·iters.
type fmaKernel struct {
	name         string
	flopsPerIter int
	run          func(iters int) float32
}

// scalarFLOPs are the FLOPs of one fmaScalar iteration (8 chains).
const scalarFLOPs = 16

// fmaScalar is the FMA loop Go compiles without assembly: 8 independent
// scalar chains of math.FMA (a VFMADD instruction where the CPU has FMA).
func fmaScalar(iters int) float32 {
	var a0, a1, a2, a3, a4, a5, a6, a7 float64
	x, y := 0.999999, 1e-9
	for i := 0; i < iters; i++ {
		a0 = math.FMA(a0, x, y)
		a1 = math.FMA(a1, x, y)
		a2 = math.FMA(a2, x, y)
		a3 = math.FMA(a3, x, y)
		a4 = math.FMA(a4, x, y)
		a5 = math.FMA(a5, x, y)
		a6 = math.FMA(a6, x, y)
		a7 = math.FMA(a7, x, y)
	}
	return float32(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7)
}

// readGo sums s with 8 accumulators (what Go compiles without assembly).
func readGo(s []float32) float32 {
	var a [8]float32
	i := 0
	for ; i+8 <= len(s); i += 8 {
		a[0] += s[i]
		a[1] += s[i+1]
		a[2] += s[i+2]
		a[3] += s[i+3]
		a[4] += s[i+4]
		a[5] += s[i+5]
		a[6] += s[i+6]
		a[7] += s[i+7]
	}
	for ; i < len(s); i++ {
		a[0] += s[i]
	}
	return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7]
}

// parallel runs f(t) on threads goroutines, each locked to an OS thread,
// and returns the wall time from the common start to the last finish.
func parallel(threads int, f func(t int)) time.Duration {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(threads)
	done.Add(threads)
	for t := 0; t < threads; t++ {
		go func(t int) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			ready.Done()
			<-start
			f(t)
			done.Done()
		}(t)
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	done.Wait()
	return time.Since(t0)
}

// best returns the shortest of reps runs of f.
func best(reps int, f func() time.Duration) time.Duration {
	b := time.Duration(math.MaxInt64)
	for i := 0; i < reps; i++ {
		b = min(b, f())
	}
	return b
}

// sink receives the measured loops' results so the compiler keeps them.
//
//lint:ignore U1000 written, never read, on purpose
var sink float32

// split returns thread t's part [lo, hi) of n elements, a multiple of 32.
func split(n, threads, t int) (lo, hi int) {
	per := (n / threads) &^ 31
	return t * per, (t + 1) * per
}

// Measure measures the limits with threads threads, logging to w. Memory
// loops use arrays of mb MiB each (far beyond the caches) and keep the
// best of 10 runs (STREAM's rule); FMA loops run about 0.2 s, best of 5.
func Measure(w io.Writer, threads, mb int) Limits {
	var l Limits
	n := mb << 20 / 4
	a, b, c := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range a { // touch every page before timing
		a[i], b[i], c[i] = 1, 2, float32(i%7)
	}
	var mu sync.Mutex
	name, read := readKernel()
	d := best(10, func() time.Duration {
		return parallel(threads, func(t int) {
			lo, hi := split(n, threads, t)
			s := read(a[lo:hi])
			mu.Lock()
			sink += s
			mu.Unlock()
		})
	})
	bytes := func(arrays int) float64 {
		_, hi := split(n, threads, threads-1)
		return float64(arrays) * 4 * float64(hi)
	}
	l.ReadGBps, l.ReadKernel = bytes(1)/d.Seconds()/1e9, name
	fmt.Fprintf(w, "read   %6.1f GB/s (%s, %d MiB)\n", l.ReadGBps, name, mb)
	d = best(10, func() time.Duration {
		return parallel(threads, func(t int) {
			lo, hi := split(n, threads, t)
			copy(a[lo:hi], b[lo:hi])
		})
	})
	l.CopyGBps = bytes(2) / d.Seconds() / 1e9
	fmt.Fprintf(w, "copy   %6.1f GB/s (copy(), read + write)\n", l.CopyGBps)
	d = best(10, func() time.Duration {
		return parallel(threads, func(t int) {
			lo, hi := split(n, threads, t)
			x, y, z := a[lo:hi], b[lo:hi], c[lo:hi]
			for i := range x {
				x[i] = y[i] + 3*z[i]
			}
		})
	})
	l.TriadGBps = bytes(3) / d.Seconds() / 1e9
	fmt.Fprintf(w, "triad  %6.1f GB/s (Go loop a = b + s·c)\n", l.TriadGBps)

	for _, k := range fmaKernels() {
		g := measureFMA(k, threads)
		l.FMA = append(l.FMA, Measured{k.name, g})
		fmt.Fprintf(w, "fp32   %6.1f GFLOP/s (%s)\n", g, k.name)
		if g > l.PeakGFLOPs {
			l.PeakGFLOPs, l.PeakKernel = g, k.name
		}
	}
	return l
}

// measureFMA returns k's rate on threads threads in GFLOP/s: runs of
// about 0.2 s, best of 5.
func measureFMA(k fmaKernel, threads int) float64 {
	var mu sync.Mutex
	iters := 1 << 16
	for {
		t0 := time.Now()
		sink += k.run(iters)
		if time.Since(t0) > 20*time.Millisecond || iters > 1<<34 {
			iters = int(float64(iters) * 0.2 / time.Since(t0).Seconds())
			break
		}
		iters *= 4
	}
	d := best(5, func() time.Duration {
		return parallel(threads, func(int) {
			s := k.run(iters)
			mu.Lock()
			sink += s
			mu.Unlock()
		})
	})
	return float64(threads) * float64(iters) * float64(k.flopsPerIter) / d.Seconds() / 1e9
}

// roundPrefix starts the key of the FP32 peak that scripts/bench.sh
// measures in each of its rounds (benchtable peak): Render takes the
// median of those as the U-Net's yardstick.
const roundPrefix = "Limits/fp32"

// RoundPeak measures the widest FMA loop (as Measure does) and writes it
// to w as a benchmark result line, BenchmarkLimits/fp32-<threads>, that
// Parse reads back: one sample of the peak for the round it starts.
func RoundPeak(w io.Writer, threads int) {
	k := fmaKernels()[0]
	g := measureFMA(k, threads)
	fmt.Fprintf(w, "Benchmark%s-%d\t1\t0 ns/op\t%.1f GFLOP/s\n", roundPrefix, threads, g)
	fmt.Fprintf(w, "(FP32 peak of this round: %s, %d threads, best of 5 runs of 0.2 s)\n", k.name, threads)
}
