//go:build tensorflow

package tfseg_test

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/tfops"
)

// Parity of the Go engine with real TensorFlow on SavedModels written by
// TensorFlow: the same model, loaded by both engines, fed the same inputs,
// must give the same outputs within loaderParityTol (absolute).
const loaderParityTol = 1e-5

// loaderParity runs signature key of the model in dir on both engines and
// compares every output; it returns the largest absolute difference and
// logs both engines' run times.
func loaderParity(t *testing.T, goModel, tfModel *tfseg.Model, key string, inputs map[string]*tfops.Tensor) float64 {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	want, err := tfModel.Run(ctx, key, inputs)
	require.NoError(t, err, "tensorflow engine")
	tfTime := time.Since(start)
	start = time.Now()
	got, err := goModel.Run(ctx, key, inputs)
	require.NoError(t, err, "go engine")
	goTime := time.Since(start)
	require.Len(t, got, len(want))
	worst := 0.0
	for name, w := range want {
		g := got[name]
		require.NotNil(t, g, "output %q", name)
		require.Equal(t, w.Shape(), g.Shape(), "output %q shape", name)
		require.Equal(t, w.DType(), g.DType(), "output %q dtype", name)
		wv, gv := w.Float32s(), g.Float32s()
		at := -1
		for i := range wv {
			d := math.Abs(float64(wv[i]) - float64(gv[i]))
			if d > worst || math.IsNaN(d) {
				worst, at = d, i
			}
		}
		if worst > loaderParityTol || math.IsNaN(worst) {
			t.Errorf("output %q element %d: go %v, tensorflow %v (|diff| %g > %g)", name, at, gv[at], wv[at], worst, loaderParityTol)
		}
	}
	t.Logf("max |go - tensorflow| = %.3g; tensorflow %v, go %v", worst, tfTime.Round(time.Millisecond), goTime.Round(time.Millisecond))
	return worst
}

func loaderBoth(t *testing.T, name string) (goModel, tfModel *tfseg.Model) {
	dir := fixtureModel(t, name)
	return loadModel(t, dir), loadModel(t, dir, tfseg.WithEngine("tensorflow"))
}

func TestGoMatchesTensorFlowOnFixtures(t *testing.T) {
	rng := rand.New(rand.NewSource(11))
	randn := func(dims ...int) *tfops.Tensor {
		v := make([]float32, tfops.NumElements(dims))
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return tfops.MustFromSlice(v, dims...)
	}
	t.Run("half-plus-two-tf1", func(t *testing.T) {
		g, f := loaderBoth(t, "half-plus-two-tf1")
		loaderParity(t, g, f, "serving_default", map[string]*tfops.Tensor{"x": randn(7, 1)})
		loaderParity(t, g, f, "regress_x2_to_y3", map[string]*tfops.Tensor{"inputs": randn(3, 1)})
	})
	t.Run("keras-dense-single", func(t *testing.T) {
		g, f := loaderBoth(t, "keras-dense-single")
		for _, n := range []int{1, 16} {
			loaderParity(t, g, f, "serving_default", map[string]*tfops.Tensor{"test_in_input": randn(n, 5)})
		}
	})
	t.Run("keras-dense-multi", func(t *testing.T) {
		g, f := loaderBoth(t, "keras-dense-multi")
		loaderParity(t, g, f, "serving_default", map[string]*tfops.Tensor{"test_in1": randn(9, 5), "test_in2": randn(9, 5)})
	})
}

func TestGoMatchesTensorFlowOnUNet(t *testing.T) {
	g, f := loaderBoth(t, "keras-unet-circles")
	worst := 0.0
	for _, tc := range []struct{ n, size int }{{1, 100}, {3, 100}, {1, 172}, {3, 172}} {
		t.Run(fmt.Sprintf("%dx%dx%d", tc.n, tc.size, tc.size), func(t *testing.T) {
			in := map[string]*tfops.Tensor{"inputs": noisyCircles(tc.n, tc.size, tc.size, int64(tc.size*10+tc.n))}
			worst = max(worst, loaderParity(t, g, f, "serving_default", in))
		})
	}
	t.Logf("U-Net: max |go - tensorflow| over all sizes = %.3g", worst)
}

func init() { benchEngines = append(benchEngines, "tensorflow") }
