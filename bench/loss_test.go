package bench_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// benchLosses are the losses compared: transcendental (ce, focal,
// keras_bce, ce_dice), sum-only (dice_image, tversky_image) and sorting
// (lovasz_hinge).
var benchLosses = []string{"ce", "focal", "dice_image", "tversky_image", "lovasz_hinge", "keras_bce", "ce_dice"}

// benchConfig are the parameters a loss is benchmarked with (default
// otherwise): ce's per-pixel (B, H, W) tensor, reduction=none, the graph the
// README's performance table measured before ce's default became Keras'
// one number.
var benchConfig = map[string]graphs.Config{"ce": {"reduction": "none"}}

// lossSizes are the NHWC sizes the losses run at.
var lossSizes = [][]int{{16, 512, 512, 1}}

// logitLosses take logits, not probabilities, as y_pred.
var logitLosses = map[string]bool{"lovasz_hinge": true}

// sizeName formats dims as "16x512x512x1".
func sizeName(dims []int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, "x")
}

// lossInputs makes y_true, a 0/1 mask with discs-like runs (about 30%
// foreground), and y_pred, probabilities in (0.001, 0.999) near the labels
// (or their logits), from a fixed seed.
func lossInputs(dims []int, logits bool) (z, p *tfops.Tensor) {
	n := tfops.NumElements(dims)
	r := rand.New(rand.NewPCG(2024, uint64(n)))
	zs, ps := make([]float32, n), make([]float32, n)
	on := false
	for i := range zs {
		if r.IntN(64) == 0 {
			on = r.IntN(10) < 3
		}
		v := 0.3 * r.Float64()
		if on {
			zs[i] = 1
			v = 1 - v
		}
		v = math.Min(math.Max(v+0.2*r.NormFloat64(), 0.001), 0.999)
		if logits {
			v = math.Log(v / (1 - v))
		}
		ps[i] = float32(v)
	}
	return tfops.MustFromSlice(zs, dims...), tfops.MustFromSlice(ps, dims...)
}

// BenchmarkLoss times one run of each loss graph on each engine.
func BenchmarkLoss(b *testing.B) {
	for _, name := range benchLosses {
		g, err := graphs.Build(name, benchConfig[name])
		if err != nil {
			b.Fatal(err)
		}
		for _, dims := range lossSizes {
			// Made on first use, so that a -bench filter skips the work.
			var z, p *tfops.Tensor
			for _, e := range engines {
				b.Run(fmt.Sprintf("name=%s/engine=%s/size=%s", name, e.name, sizeName(dims)), func(b *testing.B) {
					if z == nil {
						z, p = lossInputs(dims, logitLosses[name])
					}
					feeds := map[string]*tfops.Tensor{g.Inputs[graphs.InputTrue]: z, g.Inputs[graphs.InputPred]: p}
					r, err := e.open(g.GraphDef, feeds, g.Output)
					if err != nil {
						b.Fatal(err)
					}
					defer r.close()
					outElems, err := r.run() // warm-up; the output's size
					if err != nil {
						b.Fatalf("%s on %s: %v", name, e.name, err)
					}
					b.SetBytes(int64(4 * (2*z.Len() + outElems)))
					b.ReportAllocs()
					for b.Loop() {
						if _, err := r.run(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
