package bench_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/internal/fixtures"
	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

// unetDir is the Keras U-Net fixture (TF 2.10): valid padding, 16 base
// filters, two 2x2 max-pools, 2-class softmax.
var unetDir = filepath.Join("..", "..", "shared", "fixtures", "savedmodels", "keras-unet-circles")

// unetSizes are the NHWC input sizes BenchmarkUNet runs at.
var unetSizes = [][]int{{1, 572, 572, 1}, {4, 188, 188, 1}}

// unetFixture returns unetDir, skipping (failing under CI=true) without it.
func unetFixture(tb testing.TB) string {
	tb.Helper()
	return fixtures.Require(tb, unetDir, "saved_model.pb")
}

// A unetLayer is one convolution of the fixture, in execution order.
type unetLayer struct {
	kernel     string // checkpoint key of the kernel variable
	transposed bool   // Conv2DBackpropInput (2x2, stride 2): doubles H and W
	k, cin, co int    // kernel size, input and output channels
	pool       bool   // a 2x2 max-pool follows (its input is a skip tensor)
	concat     bool   // the input is concatenated with the cropped skip tensor
}

// unetLayers is the fixture's architecture: two 3x3 valid convolutions
// (ReLU) per level, max-pool down (16, 32 filters), 64 at the bottom, then
// per level up a 2x2 stride-2 transposed convolution, concatenation with
// the center-cropped skip tensor, two 3x3 convolutions; a final 1x1
// convolution to 2 classes. TestUNetLayers checks the kernels' shapes
// against the fixture's checkpoint and the output size against a run.
var unetLayers = []unetLayer{
	{kernel: "variables/0", k: 3, cin: 1, co: 16},
	{kernel: "variables/2", k: 3, cin: 16, co: 16, pool: true},
	{kernel: "variables/4", k: 3, cin: 16, co: 32},
	{kernel: "variables/6", k: 3, cin: 32, co: 32, pool: true},
	{kernel: "variables/8", k: 3, cin: 32, co: 64},
	{kernel: "variables/10", k: 3, cin: 64, co: 64},
	{kernel: "variables/12", transposed: true, k: 2, cin: 64, co: 32},
	{kernel: "variables/14", k: 3, cin: 64, co: 32, concat: true},
	{kernel: "variables/16", k: 3, cin: 32, co: 32},
	{kernel: "variables/18", transposed: true, k: 2, cin: 32, co: 16},
	{kernel: "variables/20", k: 3, cin: 32, co: 16, concat: true},
	{kernel: "variables/22", k: 3, cin: 16, co: 16},
	{kernel: "layer_with_weights-7/kernel", k: 1, cin: 16, co: 2},
}

// unetFLOPs returns the convolutions' FLOPs (a multiply-add is 2) for an
// n x h x w input, and the output's height and width. A valid k x k
// convolution makes Ho x Wo = (H-k+1) x (W-k+1) outputs of k²·Cin
// multiply-adds per output channel; the 2x2 stride-2 transposed one makes
// 2H x 2W outputs of Cin multiply-adds each (every output pixel receives
// one kernel tap). Bias, ReLU, pooling and softmax are not counted.
func unetFLOPs(n, h, w int) (flops float64, oh, ow int) {
	for _, l := range unetLayers {
		if l.transposed {
			h, w = 2*h, 2*w
			flops += 2 * float64(n*h*w) * float64(l.cin*l.co)
			continue
		}
		h, w = h-l.k+1, w-l.k+1
		flops += 2 * float64(n*h*w) * float64(l.k*l.k*l.cin*l.co)
		if l.pool {
			h, w = h/2, w/2
		}
	}
	return flops, h, w
}

// unetInput is a batch of noisy discs (deterministic), the kind of image the
// fixture was trained on.
func unetInput(dims []int) *tfops.Tensor {
	n, h, w := dims[0], dims[1], dims[2]
	r := rand.New(rand.NewPCG(572, 188))
	img := make([]float32, n*h*w)
	for b := 0; b < n; b++ {
		cy, cx, rad := r.Float64()*float64(h), r.Float64()*float64(w), 10+r.Float64()*float64(min(h, w))/4
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := 0.3 * r.NormFloat64()
				if dy, dx := float64(y)-cy, float64(x)-cx; dy*dy+dx*dx < rad*rad {
					v += 1
				}
				img[(b*h+y)*w+x] = float32(v)
			}
		}
	}
	return tfops.MustFromSlice(img, dims...)
}

// BenchmarkUNet times Model.Run of the U-Net fixture on each engine.
func BenchmarkUNet(b *testing.B) {
	dir := unetFixture(b)
	for _, e := range engines {
		var m *tfseg.Model // loaded on first use, so that a -bench filter skips the work
		for _, dims := range unetSizes {
			flops, _, _ := unetFLOPs(dims[0], dims[1], dims[2])
			b.Run(fmt.Sprintf("engine=%s/size=%s", e.name, sizeName(dims)), func(b *testing.B) {
				if m == nil {
					var err error
					if m, err = tfseg.Load(dir, tfseg.WithEngine(e.name), tfseg.WithThreads(threads())); err != nil {
						b.Fatal(err)
					}
				}
				in := map[string]*tfops.Tensor{"inputs": unetInput(dims)}
				ctx := context.Background()
				if _, err := m.Run(ctx, "serving_default", in); err != nil { // warm-up
					b.Fatal(err)
				}
				b.SetBytes(int64(4 * in["inputs"].Len()))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := m.Run(ctx, "serving_default", in); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
		if m != nil {
			m.Close()
		}
	}
}

// TestUNetLayers checks unetLayers against the fixture: every kernel's
// shape in the checkpoint ([k, k, Cin, Cout]; [k, k, Cout, Cin] for the
// transposed ones), every kernel used once, and the output size unetFLOPs
// predicts against a run on the Go engine.
func TestUNetLayers(t *testing.T) {
	dir := unetFixture(t)
	bundle, err := savedmodel.OpenBundle(filepath.Join(dir, "variables", "variables"), savedmodel.BundleOptions{})
	require.NoError(t, err)
	defer bundle.Close()
	kernels := 0
	for _, k := range bundle.Keys() {
		if e, err := bundle.Entry(k); err == nil && len(e.GetShape().GetDim()) == 4 {
			kernels++
		}
	}
	assert.Equal(t, len(unetLayers), kernels, "4-D kernels in the checkpoint")
	for _, l := range unetLayers {
		e, err := bundle.Entry(l.kernel + "/.ATTRIBUTES/VARIABLE_VALUE")
		require.NoError(t, err, l.kernel)
		var dims []int64
		for _, d := range e.GetShape().GetDim() {
			dims = append(dims, d.GetSize())
		}
		want := []int64{int64(l.k), int64(l.k), int64(l.cin), int64(l.co)}
		if l.transposed {
			want[2], want[3] = want[3], want[2]
		}
		assert.Equal(t, want, dims, "kernel %s", l.kernel)
	}

	m, err := tfseg.Load(dir)
	require.NoError(t, err)
	defer m.Close()
	for _, size := range []int{100, 188} {
		_, oh, ow := unetFLOPs(1, size, size)
		out, err := m.Run(context.Background(), "serving_default", map[string]*tfops.Tensor{"inputs": unetInput([]int{1, size, size, 1})})
		require.NoError(t, err)
		assert.Equal(t, []int{1, oh, ow, 2}, out["outputs"].Shape(), "output of a %dx%d input", size, size)
	}
	// The figure: "about 14 GFLOP" at 1x572x572x1.
	f, oh, _ := unetFLOPs(1, 572, 572)
	assert.Equal(t, 532, oh)
	assert.InDelta(t, 14e9, f, 0.5e9)
}
