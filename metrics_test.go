package tfseg_test

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/eval"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// TestMetricsEqualEval scores the demo model's output on in-memory images
// with Metrics and checks every number against the report `tfseg eval`
// (package eval) writes for the same files.
func TestMetricsEqualEval(t *testing.T) {
	dir := t.TempDir()
	model, data := filepath.Join(dir, "model"), filepath.Join(dir, "data")
	require.NoError(t, baseline.WriteModel(model, baseline.DefaultCalibration))
	require.NoError(t, baseline.DefaultCircles.WriteDir(data, 6))
	em, err := eval.Load(model, eval.LoadOptions{})
	require.NoError(t, err)
	defer em.Close()
	l, err := dataset.Match(filepath.Join(data, "images"), filepath.Join(data, "masks"), dataset.MatchOptions{})
	require.NoError(t, err)
	rep, err := eval.Run(context.Background(), em, l, eval.Options{Metrics: eval.DefaultMetrics})
	require.NoError(t, err)
	require.Len(t, rep.Images, 6)

	// The same files, read from memory, through the public API.
	var ims []*dataset.Image
	var masks []*dataset.Mask
	for _, r := range rep.Images {
		b, err := os.ReadFile(r.Image)
		require.NoError(t, err)
		im, err := dataset.DecodeImage(bytes.NewReader(b), dataset.ImageOptions{})
		require.NoError(t, err)
		f, err := os.Open(r.Mask)
		require.NoError(t, err)
		mk, err := dataset.DecodeMask(f, dataset.MaskOptions{})
		f.Close()
		require.NoError(t, err)
		ims, masks = append(ims, im), append(masks, mk)
	}
	x, err := dataset.ImagesTensor(ims...)
	require.NoError(t, err)
	y, err := dataset.MasksTensor(masks...)
	require.NoError(t, err)
	m, err := tfseg.Load(model)
	require.NoError(t, err)
	defer m.Close()
	out, err := m.Run(context.Background(), "serving_default", map[string]*tfops.Tensor{"image": x})
	require.NoError(t, err)
	met, err := tfseg.NewMetrics(0.5)
	require.NoError(t, err)
	defer met.Close()
	s, err := met.Score(context.Background(), out["probability"], y)
	require.NoError(t, err)
	assert.Equal(t, 2, s.Classes)
	for i := range rep.Images {
		for col, got := range map[string]float64{"iou": s.IoU.Mean[i], "dice_coef": s.Dice.Mean[i], "precision": s.Precision.Mean[i],
			"recall": s.Recall.Mean[i], "pixel_accuracy": s.PixelAccuracy[i]} {
			want := rep.Value(i, col)
			require.False(t, math.IsNaN(want), "eval has column %s", col)
			assert.Equal(t, want, got, "image %d (%s), %s", i, rep.Images[i].Name, col)
		}
	}
}

// TestMetricsMulticlass checks per-class and mean values against a float64
// reference loop over the confusion counts of each image.
func TestMetricsMulticlass(t *testing.T) {
	const n, h, w, C = 3, 6, 5, 4
	rng := rand.New(rand.NewPCG(7, 7))
	p := make([]float32, n*h*w*C)
	for i := range p {
		p[i] = rng.Float32()
	}
	lab := make([]int64, n*h*w)
	for i := range lab {
		lab[i] = int64(rng.IntN(C - 1)) // class 3 never in the masks
	}
	pred := tfops.MustFromSlice(p, n, h, w, C)
	met, err := tfseg.NewMetrics(0.5)
	require.NoError(t, err)
	defer met.Close()
	s, err := met.Score(context.Background(), pred, tfops.MustFromSlice(lab, n, h, w))
	require.NoError(t, err)
	require.Equal(t, C, s.Classes)
	for b := 0; b < n; b++ {
		var tp, fp, fn [C]float64
		correct := 0.0
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				best := 0
				for c := 1; c < C; c++ {
					if pred.At(b, y, x, c) > pred.At(b, y, x, best) {
						best = c
					}
				}
				truth := int(lab[(b*h+y)*w+x])
				if best == truth {
					tp[truth]++
					correct++
				} else {
					fp[best]++
					fn[truth]++
				}
			}
		}
		check := func(name string, cs tfseg.ClassScores, f func(c int) (num, den float64)) {
			var sum float64
			k := 0
			for c := 0; c < C; c++ {
				num, den := f(c)
				if den == 0 {
					assert.True(t, math.IsNaN(cs.PerClass[b][c]), "%s image %d class %d: NaN", name, b, c)
					continue
				}
				assert.InDelta(t, num/den, cs.PerClass[b][c], 1e-6, "%s image %d class %d", name, b, c)
				sum += num / den
				k++
			}
			assert.InDelta(t, sum/float64(k), cs.Mean[b], 1e-6, "%s image %d mean", name, b)
		}
		check("iou", s.IoU, func(c int) (float64, float64) { return tp[c], tp[c] + fp[c] + fn[c] })
		check("dice", s.Dice, func(c int) (float64, float64) { return 2 * tp[c], 2*tp[c] + fp[c] + fn[c] })
		check("precision", s.Precision, func(c int) (float64, float64) { return tp[c], tp[c] + fp[c] })
		check("recall", s.Recall, func(c int) (float64, float64) { return tp[c], tp[c] + fn[c] })
		assert.InDelta(t, correct/float64(h*w), s.PixelAccuracy[b], 1e-6, "pixel accuracy image %d", b)
		var fg float64
		k := 0
		for _, v := range s.IoU.PerClass[b][1:] {
			if !math.IsNaN(v) {
				fg += v
				k++
			}
		}
		assert.InDelta(t, fg/float64(k), s.IoU.Foreground[b], 1e-12)
	}
}

func TestMetricsBadInput(t *testing.T) {
	met, err := tfseg.NewMetrics(0.5)
	require.NoError(t, err)
	defer met.Close()
	ctx := context.Background()
	f := func(dims ...int) *tfops.Tensor { z, _ := tfops.Zeros(tfops.Float, dims...); return z }
	for _, c := range []struct {
		name        string
		pred, masks *tfops.Tensor
		want        string
	}{
		{"rank", f(2, 2, 1), f(2, 2, 1), "want a rank-4 NHWC tensor"},
		{"dtype", tfops.MustFromSlice([]int32{0}, 1, 1, 1, 1), f(1, 1, 1), "pred is int32; want float32 or float64"},
		{"sizes", f(1, 2, 2, 1), f(1, 2, 3), "masks have shape [1 2 3], pred [1 2 2 1]"},
		{"class", f(1, 1, 2, 1), tfops.MustFromSlice([]int32{0, 255}, 1, 1, 2), "masks value 255 at flat index 1 is not a class index in [0, 2) (the output has one channel"},
		{"mask dtype", f(1, 1, 1, 1), tfops.MustFromSlice([]string{"a"}, 1, 1, 1), "masks are string"},
		{"nil", nil, f(1), "must not be nil"},
	} {
		_, err := met.Score(ctx, c.pred, c.masks)
		require.ErrorIs(t, err, graphs.ErrInput, c.name)
		assert.Contains(t, err.Error(), c.want, c.name)
	}
	_, err = tfseg.NewMetrics(math.NaN())
	assert.ErrorIs(t, err, graphs.ErrParam)
	_, err = tfseg.NewMetrics(0.5, tfseg.WithEngine("nope"))
	assert.ErrorContains(t, err, `unknown engine "nope"`)
}
