// Command benchtable measures this machine's limits and turns `go test
// -bench` output into the Go-versus-TensorFlow table scripts/bench.sh
// prints.
//
//	benchtable limits [-threads N] [-mb MiB] [-o limits.json]
//	benchtable peak [-threads N]
//	benchtable table -limits limits.json bench.txt...
//
// limits measures read, copy and triad memory bandwidth (arrays of -mb MiB,
// best of 10, all threads) and FP32 FMA throughput (AVX-512 and AVX2
// assembly loops where the CPU has them, a scalar Go loop always; best of
// 5) and writes them as JSON. Go compiles neither vector FMA nor vector
// loads, so the assembly loops are what stands for the machine's peak.
//
// peak measures the widest FMA loop again (as limits does) and prints it
// as a benchmark result, BenchmarkLimits/fp32-N; scripts/bench.sh runs it
// at the start of each of its rounds, and table takes the median of those
// samples as the FP32 peak (the limits file's is then only reported): the
// peak of a shared VM's cores moves with the host's load and clocks (405
// to 508 GFLOP/s within one session on the 2-core Zen 5 machine of issue 16),
// so one best-of-5 sample taken before the run is not the machine the
// U-Net's median ran on.
//
// table groups results by benchmark name without its engine=... element
// and prints per benchmark the Go and TensorFlow medians with their
// min–max, Go/TF (median ratio, and the range min(Go)/max(TF) to
// max(Go)/min(TF)), each median as a share of the machine's limit (read
// bandwidth for BenchmarkLoss, FP32 peak for benchmarks reporting GFLOP/s),
// Go's bytes and allocations per op, and whether its target (docs/design.md, Performance targets) is met.
// BenchmarkUNetPeak's results (peak-MiB, run-MiB, base-MiB) get a table of
// their own under it: per U-Net size, the Go engine's median peak RSS in
// the default build and in the tensorflow build, TensorFlow's, Go/TF, what
// the runs add, and whether Go's peak is no higher than TensorFlow's.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: benchtable limits|table [flags]")
	}
	switch args[0] {
	case "limits":
		fs := flag.NewFlagSet("limits", flag.ContinueOnError)
		threads := fs.Int("threads", runtime.GOMAXPROCS(0), "threads to measure with")
		mb := fs.Int("mb", 256, "MiB per array of the memory loops")
		out := fs.String("o", "", "write the limits as JSON to this file")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *threads < 1 || *mb < 1 {
			return fmt.Errorf("limits: -threads and -mb must be positive")
		}
		lim := Measure(stdout, *threads, *mb)
		if *out != "" {
			b, err := json.MarshalIndent(lim, "", "  ")
			if err != nil {
				return err
			}
			return os.WriteFile(*out, append(b, '\n'), 0o644)
		}
		return nil
	case "peak":
		fs := flag.NewFlagSet("peak", flag.ContinueOnError)
		threads := fs.Int("threads", runtime.GOMAXPROCS(0), "threads to measure with")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *threads < 1 {
			return fmt.Errorf("peak: -threads must be positive")
		}
		RoundPeak(stdout, *threads)
		return nil
	case "table":
		fs := flag.NewFlagSet("table", flag.ContinueOnError)
		limFile := fs.String("limits", "", "limits JSON written by benchtable limits")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		var lim Limits
		if *limFile != "" {
			b, err := os.ReadFile(*limFile)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(b, &lim); err != nil {
				return fmt.Errorf("%s: %v", *limFile, err)
			}
		}
		var results []Result
		for _, name := range fs.Args() {
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			r, err := Parse(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %v", name, err)
			}
			results = append(results, r...)
		}
		if len(results) == 0 {
			return fmt.Errorf("table: no benchmark results in %v", fs.Args())
		}
		Render(stdout, results, lim)
		return nil
	}
	return fmt.Errorf("unknown command %q; want limits, peak or table", args[0])
}
