package tfseg_test

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// lossBatch is a random binary mask and probabilities, (n, h, w, 1).
func lossBatch(seed uint64, n, h, w int) (z []float64, p []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	z, p = make([]float64, n*h*w), make([]float64, n*h*w)
	for i := range z {
		z[i] = float64(rng.IntN(2))
		p[i] = rng.Float64()
	}
	return z, p
}

// refDiceImage is 1 - 2 Σ z p / Σ (z + p) per image, in float64
// (graphs' dice_image, documented formula).
func refDiceImage(z, p []float64, n int) []float64 {
	per := len(z) / n
	out := make([]float64, n)
	for b := 0; b < n; b++ {
		var zp, s float64
		for i := b * per; i < (b+1)*per; i++ {
			zp += z[i] * p[i]
			s += z[i] + p[i]
		}
		out[b] = 1 - 2*zp/s
	}
	return out
}

func TestLossRunMatchesReference(t *testing.T) {
	const n, h, w = 3, 5, 4
	z, p := lossBatch(1, n, h, w)
	want := refDiceImage(z, p, n)
	l, err := tfseg.NewLoss("dice_image", tfseg.Params{"reduction": "none"})
	require.NoError(t, err)
	defer l.Close()
	assert.Equal(t, "go", l.Engine(), "the default engine without a blank import")
	ctx := context.Background()
	in := map[string]*tfops.Tensor{
		graphs.InputTrue: tfops.MustFromSlice(z, n, h, w, 1),
		graphs.InputPred: tfops.MustFromSlice(p, n, h, w, 1),
	}
	for run := 0; run < 3; run++ { // cached session, same answer
		got, err := l.Run(ctx, in)
		require.NoError(t, err)
		require.Equal(t, []int{n}, got.Shape())
		assert.InDeltaSlice(t, want, got.Float64s(), 1e-12)
	}
	// The one-shot form gives the same values.
	one, err := tfseg.Eval(ctx, nil, "dice_image", graphs.Config{"reduction": "none"}, in)
	require.NoError(t, err)
	assert.InDeltaSlice(t, want, one.Float64s(), 1e-12)
	// PerImage of a loss that already has one value per image: (N) too.
	per, err := l.PerImage(ctx, in)
	require.NoError(t, err)
	require.Equal(t, []int{n}, per.Shape())
	assert.InDeltaSlice(t, want, per.Float64s(), 1e-12)

	// Another shape on the same Loss: a new session, right values.
	z2, p2 := lossBatch(2, 1, 3, 3)
	got, err := l.Run(ctx, map[string]*tfops.Tensor{
		graphs.InputTrue: tfops.MustFromSlice(z2, 1, 3, 3, 1),
		graphs.InputPred: tfops.MustFromSlice(p2, 1, 3, 3, 1),
	})
	require.NoError(t, err)
	assert.InDeltaSlice(t, refDiceImage(z2, p2, 1), got.Float64s(), 1e-12)
}

func TestLossPerImageMeanLoss(t *testing.T) {
	// dice_image's default reduction averages over the batch: PerImage gives
	// each image's value, and their mean is the batch value.
	const n, h, w = 4, 3, 6
	z, p := lossBatch(3, n, h, w)
	l, err := tfseg.NewLoss("dice_image", tfseg.Params{"reduction": "mean"})
	require.NoError(t, err)
	defer l.Close()
	in := map[string]*tfops.Tensor{
		graphs.InputTrue: tfops.MustFromSlice(z, n, h, w, 1),
		graphs.InputPred: tfops.MustFromSlice(p, n, h, w, 1),
	}
	per, err := l.PerImage(context.Background(), in)
	require.NoError(t, err)
	want := refDiceImage(z, p, n)
	require.Equal(t, []int{n}, per.Shape())
	assert.InDeltaSlice(t, want, per.Float64s(), 1e-12)
	mean, err := l.Value(context.Background(), in[graphs.InputTrue], in[graphs.InputPred])
	require.NoError(t, err)
	assert.InDelta(t, (want[0]+want[1]+want[2]+want[3])/4, mean, 1e-12)
}

func TestLossIntegerMasks(t *testing.T) {
	const n, h, w = 2, 4, 4
	z, p := lossBatch(4, n, h, w)
	p32 := make([]float32, len(p))
	u8, i32, i64, bl := make([]uint8, len(z)), make([]int32, len(z)), make([]int64, len(z)), make([]bool, len(z))
	for i := range z {
		p32[i] = float32(p[i])
		u8[i], i32[i], i64[i], bl[i] = uint8(z[i]), int32(z[i]), int64(z[i]), z[i] == 1
	}
	// Independent float64 reference: the focal loss's mean,
	// -α z (1-p)^γ log p - (1-α)(1-z) p^γ log(1-p), with p clipped to
	// [1e-7, 1-1e-7] as Keras' epsilon does.
	var sum float64
	for i := range z {
		q := math.Min(math.Max(float64(p32[i]), 1e-7), 1-1e-7)
		sum += -0.25*z[i]*math.Pow(1-q, 2)*math.Log(q) - 0.75*(1-z[i])*q*q*math.Log(1-q)
	}
	want := sum / float64(len(z))
	yp := tfops.MustFromSlice(p32, n, h, w, 1)
	for _, eng := range engine.Names() { // every engine built in: go, and tensorflow under the tag
		l, err := tfseg.NewLoss("focal", tfseg.Params{"gamma": 2, "alpha": float32(0.25)}, tfseg.WithEngine(eng))
		require.NoError(t, err)
		for _, yt := range []*tfops.Tensor{
			tfops.MustFromSlice(u8, n, h, w, 1), tfops.MustFromSlice(i32, n, h, w, 1),
			tfops.MustFromSlice(i64, n, h, w, 1), tfops.MustFromSlice(bl, n, h, w, 1),
		} {
			got, err := l.Value(context.Background(), yt, yp)
			require.NoError(t, err, "engine %s, y_true %v", eng, yt.DType())
			assert.InDelta(t, want, got, 1e-6*want, "engine %s, y_true %v", eng, yt.DType())
		}
		require.NoError(t, l.Close())
	}
}

func TestLossTypedParamsEqualStrings(t *testing.T) {
	const n, h, w = 2, 3, 3
	z, p := lossBatch(5, n, h, w)
	in := map[string]*tfops.Tensor{
		graphs.InputTrue: tfops.MustFromSlice(z, n, h, w, 1),
		graphs.InputPred: tfops.MustFromSlice(p, n, h, w, 1),
	}
	typed, err := tfseg.NewLoss("keras_tversky", tfseg.Params{"alpha": 0.3, "beta": float32(0.7), "axis": []int{1, 2, 3}})
	require.NoError(t, err)
	defer typed.Close()
	str, err := tfseg.NewLoss("keras_tversky", tfseg.Params{"alpha": "0.3", "beta": "0.699999988079071", "axis": "1,2,3"})
	require.NoError(t, err)
	defer str.Close()
	// The command line's form of the same parameters (tfseg.ParseLoss).
	parsed, err := tfseg.ParseLoss("keras_tversky:alpha=0.3,beta=0.699999988079071,axis=1,2,3", tfseg.WithEngine("go"))
	require.NoError(t, err)
	defer parsed.Close()
	a, err := typed.Run(context.Background(), in)
	require.NoError(t, err)
	for _, l := range []*tfseg.Loss{str, parsed} {
		b, err := l.Run(context.Background(), in)
		require.NoError(t, err)
		assert.Equal(t, b.Float64s(), a.Float64s())
		assert.Equal(t, graphs.Config{"alpha": "0.3", "beta": "0.699999988079071", "axis": "1,2,3"}, l.Config())
	}
	assert.Equal(t, str.Config(), typed.Config())
}

func TestLossConcurrent(t *testing.T) {
	l, err := tfseg.NewLoss("dice_image", tfseg.Params{"reduction": "none"})
	require.NoError(t, err)
	defer l.Close()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				n := 1 + (g+i)%3 // three shapes, shared sessions
				z, p := lossBatch(uint64(10*g+i), n, 4, 4)
				got, err := l.Run(context.Background(), map[string]*tfops.Tensor{
					graphs.InputTrue: tfops.MustFromSlice(z, n, 4, 4, 1),
					graphs.InputPred: tfops.MustFromSlice(p, n, 4, 4, 1),
				})
				if err != nil {
					errs[g] = err
					return
				}
				want := refDiceImage(z, p, n)
				for b := range want {
					if math.Abs(got.Float64s()[b]-want[b]) > 1e-12 {
						errs[g] = assert.AnError
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	for g, err := range errs {
		assert.NoError(t, err, "goroutine %d", g)
	}
}

func TestLossBadInput(t *testing.T) {
	ctx := context.Background()
	f := func(dims ...int) *tfops.Tensor { z, _ := tfops.Zeros(tfops.Float, dims...); return z }
	_, err := tfseg.NewLoss("focal", nil, tfseg.WithEngine("tpu"))
	require.ErrorIs(t, err, engine.ErrUnknownEngine)
	assert.Contains(t, err.Error(), `"tpu"`)
	assert.Contains(t, err.Error(), "available: go")

	_, err = tfseg.NewLoss("focall", nil)
	require.ErrorIs(t, err, graphs.ErrUnknown)
	assert.Contains(t, err.Error(), "valid names:")

	for _, c := range []struct {
		params tfseg.Params
		want   string
	}{
		{tfseg.Params{"gamma": true}, "parameter gamma is bool (true); want a number (float64, float32, int) or its string form"},
		{tfseg.Params{"gamma": "two"}, `gamma="two": want a finite number`},
		{tfseg.Params{"gama": 2.0}, `focal has no parameter "gama"; valid parameters: alpha, gamma`},
		{tfseg.Params{"alpha": []float64{1}}, "parameter alpha is []float64"},
	} {
		_, err := tfseg.NewLoss("focal", c.params)
		require.ErrorIs(t, err, graphs.ErrParam, "%v", c.params)
		assert.Contains(t, err.Error(), c.want)
	}
	_, err = tfseg.NewLoss("iou", tfseg.Params{"task": 2})
	require.ErrorIs(t, err, graphs.ErrParam)
	assert.Contains(t, err.Error(), "want a string, one of binary, multiclass")
	_, err = tfseg.NewLoss("keras_dice", tfseg.Params{"axis": []float64{1}})
	require.ErrorIs(t, err, graphs.ErrParam)
	assert.Contains(t, err.Error(), "want a list of integers")

	l, err := tfseg.NewLoss("dice_image", nil)
	require.NoError(t, err)
	for _, c := range []struct {
		name   string
		inputs map[string]*tfops.Tensor
		want   string
	}{
		{"missing", map[string]*tfops.Tensor{"y_pred": f(1, 2, 2, 1)}, "needs input y_true"},
		{"nil", map[string]*tfops.Tensor{"y_true": nil, "y_pred": f(1, 2, 2, 1)}, "input y_true is nil"},
		{"unknown", map[string]*tfops.Tensor{"y_true": f(1, 2, 2, 1), "y_pred": f(1, 2, 2, 1), "mask": f(1)}, `takes no input "mask"; its inputs: y_true, y_pred`},
		{"dtype", map[string]*tfops.Tensor{"y_true": f(1, 2, 2, 1), "y_pred": tfops.MustFromSlice([]int32{0, 0, 0, 0}, 1, 2, 2, 1)}, "input y_pred is int32; want float32 or float64"},
		{"label dtype", map[string]*tfops.Tensor{"y_true": tfops.MustFromSlice([]string{"", "", "", ""}, 1, 2, 2, 1), "y_pred": f(1, 2, 2, 1)}, "want float32, float64, bool, uint8, int32 or int64"},
		{"rank", map[string]*tfops.Tensor{"y_true": f(2, 2, 1), "y_pred": f(2, 2, 1)}, "needs y_pred of rank 4 (NHWC), got shape (2, 2, 1)"},
		{"shapes", map[string]*tfops.Tensor{"y_true": f(1, 2, 2, 1), "y_pred": f(1, 2, 3, 1)}, "y_true has shape (1, 2, 2, 1) but y_pred has shape (1, 2, 3, 1)"},
	} {
		_, err := l.Run(ctx, c.inputs)
		require.ErrorIs(t, err, graphs.ErrInput, c.name)
		assert.Contains(t, err.Error(), c.want, c.name)
		_, err = l.PerImage(ctx, c.inputs)
		require.ErrorIs(t, err, graphs.ErrInput, c.name)
	}
	_, err = l.Value(ctx, f(2, 2, 2, 1), f(2, 2, 2, 1))
	assert.ErrorContains(t, err, "the result has shape [2], not a single value", "reduction=none by default")
	require.NoError(t, l.Close())
	_, err = l.Run(ctx, map[string]*tfops.Tensor{"y_true": f(1, 2, 2, 1), "y_pred": f(1, 2, 2, 1)})
	assert.ErrorIs(t, err, tfseg.ErrClosed)
}

// TestLossManyShapes runs one Loss on more input shapes than it keeps
// sessions for: the shapes beyond run on a session opened for the call,
// with the same values.
func TestLossManyShapes(t *testing.T) {
	l, err := tfseg.NewLoss("dice_image", tfseg.Params{"reduction": "none"})
	require.NoError(t, err)
	defer l.Close()
	for w := 1; w <= 20; w++ {
		for rep := 0; rep < 2; rep++ {
			z, p := lossBatch(uint64(w), 2, 3, w)
			got, err := l.Run(context.Background(), map[string]*tfops.Tensor{
				graphs.InputTrue: tfops.MustFromSlice(z, 2, 3, w, 1),
				graphs.InputPred: tfops.MustFromSlice(p, 2, 3, w, 1),
			})
			require.NoError(t, err, "width %d", w)
			assert.InDeltaSlice(t, refDiceImage(z, p, 2), got.Float64s(), 1e-12, "width %d", w)
		}
	}
}

// TestParseLoss: errors come from graphs.ParseLoss (the syntax, the name)
// or NewLoss (the parameters); TestLossTypedParamsEqualStrings runs one.
func TestParseLoss(t *testing.T) {
	_, err := tfseg.ParseLoss("focal:gamma")
	require.ErrorIs(t, err, graphs.ErrParam)
	_, err = tfseg.ParseLoss("focal:gama=2")
	require.ErrorIs(t, err, graphs.ErrParam)
	assert.Contains(t, err.Error(), `focal has no parameter "gama"`)
	_, err = tfseg.ParseLoss("nope")
	require.ErrorIs(t, err, graphs.ErrUnknown)
}
