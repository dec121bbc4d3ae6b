package bench_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/tfops"
)

// corpusPeakEnv turns TestCorpusPeakMemoryChild on: "engine=go,model=seg-lenny-unet".
const corpusPeakEnv = "TFSEG_CORPUS_PEAK"

// corpusDir holds the published SavedModels (see its README).
var corpusDir = filepath.Join("..", "..", "shared", "fixtures", "corpus")

// corpusPeakModels are the corpus models BenchmarkCorpusPeak measures, with
// the sizes the -1 dimensions of each input get, in order (the rest: batch
// 1, other dimensions 64), and whether their inputs are word indices below n
// (tokens > 0) instead of uniform [0, 1) values. The segmentation models
// run at their published sizes; seg-ship-unet (dynamic H/W) at Airbus'
// 768x768.
var corpusPeakModels = []struct {
	name   string
	dims   []int
	tokens int
}{
	{name: "seg-carlos-unet", dims: []int{1}},
	{name: "seg-lenny-unet", dims: []int{2}},
	{name: "seg-ship-unet", dims: []int{1, 768, 768}},
	{name: "seg-p8-cityscapes", dims: []int{2}},
	{name: "cnn-enhancer", dims: []int{8}},
	{name: "cnn-openmv-mobilenet", dims: []int{8}},
	{name: "cnn-mcunet", dims: []int{2}},
	{name: "other-vit-encoder", dims: []int{2}},
	{name: "other-lstm-ts", dims: []int{8}},
	{name: "other-babi-memnet", dims: []int{8}, tokens: 20},
}

// corpusInputs makes the inputs of m's serving signature from a fixed seed.
func corpusInputs(sig tfseg.Signature, dims []int, tokens int) (map[string]*tfops.Tensor, error) {
	r := rand.New(rand.NewPCG(7, 7))
	in := map[string]*tfops.Tensor{}
	for _, s := range sig.Inputs {
		if s.DType != tfops.Float || !s.Shape.RankKnown() {
			return nil, fmt.Errorf("input %s: %v of shape %v (want float32 of known rank)", s.Name, s.DType, s.Shape)
		}
		unknown := 0 // every input's -1 dimensions take dims in order (one batch size for all)
		d := make([]int, s.Shape.Rank())
		for i, v := range s.Shape.Dims() {
			d[i] = int(v)
			if v < 0 {
				switch {
				case unknown < len(dims):
					d[i] = dims[unknown]
				case i == 0:
					d[i] = 1
				default:
					d[i] = 64
				}
				unknown++
			}
		}
		v := make([]float32, tfops.NumElements(d))
		for i := range v {
			if tokens > 0 {
				v[i] = float32(r.IntN(tokens))
			} else {
				v[i] = r.Float32()
			}
		}
		in[s.Name] = tfops.MustFromSlice(v, d...)
	}
	return in, nil
}

// TestCorpusPeakMemoryChild is BenchmarkCorpusPeak's child process (it
// skips unless corpusPeakEnv is set): TestUNetPeakMemoryChild's
// measurement for one corpus model (tfseg.Load on the engine, GOMAXPROCS
// threads, the serving signature run unetPeakRuns times), printing the
// same line.
func TestCorpusPeakMemoryChild(t *testing.T) {
	spec := os.Getenv(corpusPeakEnv)
	if spec == "" {
		t.Skipf("BenchmarkCorpusPeak's child process; runs only with %s set", corpusPeakEnv)
	}
	var eng, name string
	for _, kv := range strings.Split(spec, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "engine":
			eng = v
		case "model":
			name = v
		default:
			t.Fatalf("%s=%q: unknown key %q", corpusPeakEnv, spec, k)
		}
	}
	var dims []int
	tokens := -1
	for _, m := range corpusPeakModels {
		if m.name == name {
			dims, tokens = m.dims, m.tokens
		}
	}
	if tokens < 0 {
		t.Fatalf("%s=%q: no corpus model %q", corpusPeakEnv, spec, name)
	}
	measurePeak(t, "engine="+eng+" model="+name, func() (func() error, func(), error) {
		m, err := tfseg.Load(filepath.Join(corpusDir, name), tfseg.WithEngine(eng), tfseg.WithThreads(threads()),
			tfseg.WithSignatures("serving_default"))
		if err != nil {
			return nil, nil, err
		}
		sig, err := m.Signature("serving_default")
		if err != nil {
			m.Close()
			return nil, nil, err
		}
		in, err := corpusInputs(sig, dims, tokens)
		if err != nil {
			m.Close()
			return nil, nil, err
		}
		run := func() error {
			_, err := m.Run(context.Background(), "serving_default", in)
			return err
		}
		return run, func() { m.Close() }, nil
	}, unetPeakRuns)
}

// BenchmarkCorpusPeak is BenchmarkUNetPeak for the corpus models
// (../shared/fixtures/corpus), one fresh process per iteration:
//
//	BenchmarkCorpusPeak/build=default/engine=go/model=seg-lenny-unet
//
// A model an engine cannot run (an op it lacks) is skipped on that engine,
// with the child's error.
func BenchmarkCorpusPeak(b *testing.B) {
	if _, err := os.Stat(corpusDir); err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatalf("corpus %s is missing: %v", corpusDir, err)
		}
		b.Skipf("corpus %s not found (the fixtures live in ../shared beside the repository): %v", corpusDir, err)
	}
	for _, e := range engines {
		for _, m := range corpusPeakModels {
			b.Run(fmt.Sprintf("build=%s/engine=%s/model=%s", buildName, e.name, m.name), func(b *testing.B) {
				var worst unetPeak
				for i := 0; i < b.N; i++ {
					p, err := runPeakChild("TestCorpusPeakMemoryChild", corpusPeakEnv, fmt.Sprintf("engine=%s,model=%s", e.name, m.name))
					if err != nil {
						b.Skipf("%s on %s: %v", m.name, e.name, firstLines(err.Error(), 12))
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

// firstLines returns the first n lines of s.
func firstLines(s string, n int) string {
	l := strings.SplitN(s, "\n", n+1)
	return strings.Join(l[:min(n, len(l))], "\n")
}
