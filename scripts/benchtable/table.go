package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// A Result is one line of `go test -bench` output.
type Result struct {
	Key    string // the name without "Benchmark", the engine element and the -N suffix
	Engine string // the engine=... element ("go" when absent)
	Procs  int    // the -N suffix (GOMAXPROCS)
	N      int
	Values map[string]float64 // by unit: "ns/op", "MB/s", "GFLOP/s", "B/op", "allocs/op"
}

var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-(\d+))?\s+(\d+)\s+(.+)$`)

// Parse reads benchmark results, ignoring every other line.
func Parse(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for ln := 1; sc.Scan(); ln++ {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		res := Result{Engine: "go", Procs: 1, Values: map[string]float64{}}
		var parts []string
		for _, p := range strings.Split(m[1], "/") {
			if e, ok := strings.CutPrefix(p, "engine="); ok {
				res.Engine = e
				continue
			}
			parts = append(parts, p)
		}
		res.Key = strings.Join(parts, "/")
		if m[2] != "" {
			res.Procs, _ = strconv.Atoi(m[2])
		}
		res.N, _ = strconv.Atoi(m[3])
		f := strings.Fields(m[4])
		if len(f)%2 != 0 {
			return nil, fmt.Errorf("line %d: odd number of value/unit fields: %q", ln, sc.Text())
		}
		for i := 0; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: value %q: %v", ln, f[i], err)
			}
			res.Values[f[i+1]] = v
		}
		if _, ok := res.Values["ns/op"]; !ok {
			return nil, fmt.Errorf("line %d: no ns/op: %q", ln, sc.Text())
		}
		out = append(out, res)
	}
	return out, sc.Err()
}

// stats are one benchmark's samples on one engine.
type stats struct {
	ns, mbs, gflops, allocs, bytes []float64
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64{}, v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// Target is what docs/design.md (Performance targets) asks of the Go engine on a benchmark.
type Target struct {
	MaxTF    float64 // Go time / TensorFlow's at most this (0: none)
	MaxPeer  float64 // Go time / the fastest peer's (TensorFlow, PyTorch, ONNX Runtime) at most this (0: none)
	MaxTorch float64 // Go time / PyTorch's at most this (0: none)
	MaxORT   float64 // Go time / ONNX Runtime's at most this (0: none)
	MinBW    float64 // fraction of read bandwidth at least this (0: none)
	MinPeak  float64 // fraction of the FP32 peak at least this (0: none)
}

// peers are the engines other than Go in the table, in column order, with
// their column names.
var peers = []struct{ engine, name string }{{"tensorflow", "TF"}, {"pytorch", "PyTorch"}, {"onnxruntime", "ORT"}}

// targetFor returns the target for a benchmark key (docs/design.md,
// Performance targets): the U-Net at most 0.8x ONNX Runtime's time and
// 0.7x PyTorch's, at 70% of the FP32 peak at 1x572x572x1; every loss at
// least 2x faster than the fastest peer, ce and ce_dice at most 0.25x
// TensorFlow's time, dice_image and tversky_image at 70% of the read
// bandwidth.
func targetFor(key string) Target {
	switch {
	case strings.HasPrefix(key, "UNet/"):
		t := Target{MaxTorch: 0.7, MaxORT: 0.8}
		if strings.HasSuffix(key, "size=1x572x572x1") {
			t.MinPeak = 0.7
		}
		return t
	case !strings.HasPrefix(key, "Loss/"):
		return Target{}
	}
	t := Target{MaxPeer: 0.5}
	switch {
	case strings.Contains(key, "name=dice_image/"), strings.Contains(key, "name=tversky_image/"):
		t.MinBW = 0.7
	case strings.Contains(key, "name=ce/"), strings.Contains(key, "name=ce_dice/"):
		t.MaxTF = 0.25
	}
	return t
}

// peakPrefix starts the keys of BenchmarkUNetPeak, corpusPrefix those of
// BenchmarkCorpusPeak; renderPeak prints each as a table of its own.
const (
	peakPrefix   = "UNetPeak/"
	corpusPrefix = "CorpusPeak/"
)

// Render writes the comparison table (Markdown) of results against lim,
// then the U-Net peak-memory table when there are BenchmarkUNetPeak
// results, and the corpus one when there are BenchmarkCorpusPeak results.
func Render(w io.Writer, results []Result, lim Limits) {
	var main, peak, corpus []Result
	var rounds []float64
	for _, r := range results {
		switch {
		case r.Key == roundPrefix:
			if g, ok := r.Values["GFLOP/s"]; ok {
				rounds = append(rounds, g)
			}
		case strings.HasPrefix(r.Key, peakPrefix):
			peak = append(peak, r)
		case strings.HasPrefix(r.Key, corpusPrefix):
			corpus = append(corpus, r)
		default:
			main = append(main, r)
		}
	}
	if len(rounds) > 0 {
		lim.StartPeak, lim.PeakGFLOPs, lim.RoundPeaks = lim.PeakGFLOPs, median(rounds), rounds
	}
	sep := false
	if len(main) > 0 {
		renderMain(w, main, lim)
		sep = true
	}
	for _, t := range []struct {
		rs            []Result
		prefix, title string
	}{{peak, peakPrefix, "U-Net peak memory (fresh process per engine and size)"}, {corpus, corpusPrefix, "Corpus models' peak memory (fresh process per engine and model, BenchmarkCorpusPeak)"}} {
		if len(t.rs) == 0 {
			continue
		}
		if sep {
			fmt.Fprintln(w)
		}
		renderPeak(w, t.rs, t.prefix, t.title)
		sep = true
	}
}

func renderMain(w io.Writer, results []Result, lim Limits) {
	var keys []string
	by := map[string]map[string]*stats{}
	for _, r := range results {
		if by[r.Key] == nil {
			by[r.Key] = map[string]*stats{}
			keys = append(keys, r.Key)
		}
		s := by[r.Key][r.Engine]
		if s == nil {
			s = &stats{}
			by[r.Key][r.Engine] = s
		}
		s.ns = append(s.ns, r.Values["ns/op"])
		if v, ok := r.Values["MB/s"]; ok {
			s.mbs = append(s.mbs, v)
		}
		if v, ok := r.Values["GFLOP/s"]; ok {
			s.gflops = append(s.gflops, v)
		}
		if v, ok := r.Values["allocs/op"]; ok {
			s.allocs = append(s.allocs, v)
		}
		if v, ok := r.Values["B/op"]; ok {
			s.bytes = append(s.bytes, v)
		}
	}
	head := []string{"benchmark", "Go median (min–max)"}
	for _, p := range peers {
		head = append(head, p.name+" median (min–max)")
	}
	for _, p := range peers {
		head = append(head, "Go/"+p.name+" (range)")
	}
	head = append(head, "Go", "best peer", "Go B/op, allocs/op", "target")
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, k := range keys {
		g := by[k]["go"]
		row := []string{k, timeCell(g)}
		for _, p := range peers {
			row = append(row, timeCell(by[k][p.engine]))
		}
		for _, p := range peers {
			row = append(row, ratioCell(g, by[k][p.engine]))
		}
		best, bestName := bestPeer(by[k])
		row = append(row, limitCell(k, g, lim), bestCell(k, best, bestName, lim), allocCell(g), targetCell(k, by[k], lim))
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
	peak := fmt.Sprintf("%.0f GFLOP/s", lim.PeakGFLOPs)
	if len(lim.RoundPeaks) > 0 {
		lo, hi := minMax(lim.RoundPeaks)
		peak = fmt.Sprintf("%.0f GFLOP/s, the median of its %d measurements (%.0f–%.0f), one right before each round's Go engine run (%.0f in the limits measured at the start)", lim.PeakGFLOPs, len(lim.RoundPeaks), lo, hi, lim.StartPeak)
	}
	fmt.Fprintf(w, "\nGo/peer: median over median, (range) from min/max to max/min. Go and best peer: the median's share of this machine's limit: read bandwidth %.1f GB/s (%s) for the losses (MB/s = inputs read + output written), FP32 peak %s (%s) for U-Net (its convolutions' FLOPs). Peers: TF = TensorFlow 1.15 (libtensorflow, graft), PyTorch = torch ops (scripts/bench_peers.py), ORT = ONNX Runtime on the torch version exported to ONNX (scripts/bench_ort.js); each peer's output checked against the Go engine's before it is timed.\n",
		lim.ReadGBps, lim.ReadKernel, peak, lim.PeakKernel)
}

// bestPeer returns the peer with the lowest median time on a benchmark.
func bestPeer(by map[string]*stats) (*stats, string) {
	var best *stats
	name := ""
	for _, p := range peers {
		if s := by[p.engine]; s != nil && len(s.ns) > 0 && (best == nil || median(s.ns) < median(best.ns)) {
			best, name = s, p.name
		}
	}
	return best, name
}

func bestCell(key string, s *stats, name string, lim Limits) string {
	if s == nil {
		return "–"
	}
	return name + ": " + limitCell(key, s, lim)
}

func fmtDur(ns float64) string {
	switch {
	case math.IsNaN(ns):
		return "–"
	case ns >= 1e9:
		return fmt.Sprintf("%.3g s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.3g ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.3g µs", ns/1e3)
	}
	return fmt.Sprintf("%.3g ns", ns)
}

func timeCell(s *stats) string {
	if s == nil {
		return "–"
	}
	lo, hi := minMax(s.ns)
	return fmt.Sprintf("%s (%s–%s, n=%d)", fmtDur(median(s.ns)), fmtDur(lo), fmtDur(hi), len(s.ns))
}

// ratioCell is median(Go)/median(TF), with the widest range the samples
// allow: min(Go)/max(TF) to max(Go)/min(TF).
func ratioCell(g, t *stats) string {
	if g == nil || t == nil {
		return "–"
	}
	glo, ghi := minMax(g.ns)
	tlo, thi := minMax(t.ns)
	return fmt.Sprintf("**%.3gx** (%.3g–%.3g)", median(g.ns)/median(t.ns), glo/thi, ghi/tlo)
}

// limitCell is the median result's share of the machine's limit: read
// bandwidth for the losses, FP32 peak for benchmarks reporting GFLOP/s.
func limitCell(key string, s *stats, lim Limits) string {
	switch {
	case s == nil:
		return "–"
	case len(s.gflops) > 0 && lim.PeakGFLOPs > 0:
		g := median(s.gflops)
		return fmt.Sprintf("%.1f GFLOP/s = %.1f%% peak", g, 100*g/lim.PeakGFLOPs)
	case strings.HasPrefix(key, "Loss/") && len(s.mbs) > 0 && lim.ReadGBps > 0:
		b := median(s.mbs) / 1e3
		return fmt.Sprintf("%.2f GB/s = %.1f%% BW", b, 100*b/lim.ReadGBps)
	case len(s.mbs) > 0:
		return fmt.Sprintf("%.1f MB/s", median(s.mbs))
	}
	return "–"
}

func allocCell(s *stats) string {
	if s == nil || len(s.allocs) == 0 {
		return "–"
	}
	return fmt.Sprintf("%s, %.0f", fmtBytes(median(s.bytes)), median(s.allocs))
}

func fmtBytes(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.0f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

// targetCell says whether the medians meet the target; a
// comparison whose peer did not run is named as missing and not met.
func targetCell(key string, by map[string]*stats, lim Limits) string {
	tg := targetFor(key)
	g := by["go"]
	if tg == (Target{}) || g == nil {
		return "–"
	}
	var parts []string
	ok := true
	ratio := func(limit float64, what string, s *stats) {
		if limit == 0 {
			return
		}
		if s == nil || len(s.ns) == 0 {
			ok = false
			parts = append(parts, fmt.Sprintf("≤%gx %s (no run)", limit, what))
			return
		}
		ok = ok && median(g.ns)/median(s.ns) <= limit
		parts = append(parts, fmt.Sprintf("≤%gx %s", limit, what))
	}
	best, _ := bestPeer(by)
	ratio(tg.MaxPeer, "best peer", best)
	ratio(tg.MaxTF, "TF", by["tensorflow"])
	ratio(tg.MaxTorch, "PyTorch", by["pytorch"])
	ratio(tg.MaxORT, "ORT", by["onnxruntime"])
	if tg.MinBW > 0 && lim.ReadGBps > 0 && len(g.mbs) > 0 {
		ok = ok && median(g.mbs)/1e3/lim.ReadGBps >= tg.MinBW
		parts = append(parts, fmt.Sprintf("≥%.0f%% BW", 100*tg.MinBW))
	}
	if tg.MinPeak > 0 && lim.PeakGFLOPs > 0 && len(g.gflops) > 0 {
		ok = ok && median(g.gflops)/lim.PeakGFLOPs >= tg.MinPeak
		parts = append(parts, fmt.Sprintf("≥%.0f%% peak", 100*tg.MinPeak))
	}
	verdict := "met"
	if !ok {
		verdict = "**not met**"
	}
	return strings.Join(parts, ", ") + ": " + verdict
}

// peakSamples are one size's BenchmarkUNetPeak results for one engine in
// one build, in MiB.
type peakSamples struct{ peak, run []float64 }

// renderPeak writes the U-Net peak-memory table: per size, the median peak
// RSS of the Go engine in the default build (no libtensorflow in the
// process) and in the tensorflow build (the same binary as TensorFlow),
// TensorFlow's, PyTorch's and ONNX Runtime's, what the runs add to the
// loaded process, and whether the Go engine's peak is no higher than
// TensorFlow's and ONNX Runtime's (docs/design.md, Performance targets).
func renderPeak(w io.Writer, results []Result, prefix, title string) {
	var sizes []string
	by := map[string]map[string]*peakSamples{} // size -> build/engine
	base := map[string][]float64{}             // build -> base-MiB
	var builds []string
	for _, r := range results {
		build := "default"
		var parts []string
		for _, p := range strings.Split(strings.TrimPrefix(r.Key, prefix), "/") {
			if b, ok := strings.CutPrefix(p, "build="); ok {
				build = b
				continue
			}
			parts = append(parts, p)
		}
		size := strings.Join(parts, "/")
		size = strings.TrimPrefix(strings.TrimPrefix(size, "size="), "model=")
		if by[size] == nil {
			by[size] = map[string]*peakSamples{}
			sizes = append(sizes, size)
		}
		k := build + "/" + r.Engine
		s := by[size][k]
		if s == nil {
			s = &peakSamples{}
			by[size][k] = s
		}
		if v, ok := r.Values["peak-MiB"]; ok {
			s.peak = append(s.peak, v)
		}
		if v, ok := r.Values["run-MiB"]; ok {
			s.run = append(s.run, v)
		}
		if v, ok := r.Values["base-MiB"]; ok {
			if base[build] == nil {
				builds = append(builds, build)
			}
			base[build] = append(base[build], v)
		}
	}
	fmt.Fprintf(w, "%s:\n\n", title)
	fmt.Fprintf(w, "| %s |", map[bool]string{true: "model", false: "size"}[prefix == corpusPrefix])
	fmt.Fprintf(w, " Go peak RSS, default build | Go peak RSS, tensorflow build | TF peak RSS | PyTorch peak RSS | ORT peak RSS | Go/TF peak | Go/ORT peak | run: Go / TF | peak memory no higher |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|---|\n")
	for _, size := range sizes {
		gd, gt, tf := by[size]["default/go"], by[size]["tensorflow/go"], by[size]["tensorflow/tensorflow"]
		pt, ort := by[size]["pytorch/pytorch"], by[size]["onnxruntime/onnxruntime"]
		g := gd // the Go engine's own process; the same binary as TF without it
		if g == nil || len(g.peak) == 0 {
			g = gt
		}
		ratio, ortRatio, run := peakRatio(g, tf), peakRatio(g, ort), "–"
		if g != nil || tf != nil {
			run = fmt.Sprintf("%s / %s", runCell(g), runCell(tf))
		}
		var verdicts []string
		for _, c := range []struct {
			s    *peakSamples
			what string
		}{{gd, "default build"}, {gt, "same binary"}} {
			if c.s == nil || tf == nil || len(c.s.peak) == 0 || len(tf.peak) == 0 {
				continue
			}
			v := "met"
			if median(c.s.peak) > median(tf.peak) {
				v = "**not met**"
			}
			verdicts = append(verdicts, fmt.Sprintf("%s (%s)", v, c.what))
		}
		verdict := "–"
		if len(verdicts) > 0 {
			verdict = "Go ≤ TF: " + strings.Join(verdicts, ", ")
		}
		if g != nil && ort != nil && len(g.peak) > 0 && len(ort.peak) > 0 {
			v := "met"
			if median(g.peak) > median(ort.peak) {
				v = "**not met**"
			}
			verdict += "; Go ≤ ORT: " + v
		}
		row := []string{size, peakCell(gd), peakCell(gt), peakCell(tf), peakCell(pt), peakCell(ort), ratio, ortRatio, run, verdict}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
	fmt.Fprintf(w, "\nPeak RSS: VmHWM of a fresh process that loads the model and runs it 5 times (BenchmarkUNetPeak, BenchmarkCorpusPeak), median (min–max) over n processes, Go runtime defaults (GOGC=100, no GOMEMLIMIT), so the Go heap's garbage between collections counts. run: the peak during the runs minus the RSS just before the first one. Go/TF and the first verdict use the default build (no libtensorflow in the Go engine's process); \"same binary\" compares within the -tags tensorflow binary, where libtensorflow is loaded and initialized whichever engine runs. PyTorch and ORT: scripts/bench_peers.py --peak and scripts/bench_ort.js --peak, ru_maxrss of a fresh Python or Node process that loads the rebuilt U-Net (the ONNX model) and runs it 5 times.")
	if len(builds) > 0 {
		var parts []string
		for _, b := range builds {
			parts = append(parts, fmt.Sprintf("%.0f MiB in the %s build", median(base[b]), b))
		}
		fmt.Fprintf(w, " The process before loading the model: %s.", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
}

// peakRatio is the ratio of g's and p's median peak RSS.
func peakRatio(g, p *peakSamples) string {
	if g == nil || p == nil || len(g.peak) == 0 || len(p.peak) == 0 {
		return "–"
	}
	return fmt.Sprintf("**%.3gx**", median(g.peak)/median(p.peak))
}

// peakCell is the median peak RSS of s with its min–max and n, in MiB.
func peakCell(s *peakSamples) string {
	if s == nil || len(s.peak) == 0 {
		return "–"
	}
	lo, hi := minMax(s.peak)
	return fmt.Sprintf("%.0f MiB (%.0f–%.0f, n=%d)", median(s.peak), lo, hi, len(s.peak))
}

// runCell is the median of what the runs add to s's loaded process, in MiB.
func runCell(s *peakSamples) string {
	if s == nil || len(s.run) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f MiB", median(s.run))
}
