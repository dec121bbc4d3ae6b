package baseline

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	_ "github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

// openModel loads a SavedModel on the Go engine the way TensorFlow's loader
// does: open a session on the graph and run the SaverDef's restore op with
// the variables prefix fed to its filename tensor.
func openModel(t *testing.T, dir string) (engine.Session, savedmodel.Signature) {
	t.Helper()
	m, err := savedmodel.Read(dir, savedmodel.ReadOptions{})
	require.NoError(t, err)
	eng, err := engine.Get("go")
	require.NoError(t, err)
	sess, err := eng.NewSession(m.Graph(), engine.SessionOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { sess.Close() })
	sd := m.SaverDef()
	require.NotNil(t, sd)
	_, err = sess.Run(context.Background(), map[string]*tfops.Tensor{sd.GetFilenameTensorName(): tfops.FromScalar(m.VariablesPrefix())}, nil, []string{sd.GetRestoreOpName()})
	require.NoError(t, err)
	sig, err := m.Signature(savedmodel.DefaultSignatureKey)
	require.NoError(t, err)
	return sess, sig
}

// TestModelAgainstSciPy runs the exported model on the Go engine and
// compares with scipy.ndimage.gaussian_filter followed by the logistic map
// (scripts/goldens_baseline.py), for each golden's calibration.
func TestModelAgainstSciPy(t *testing.T) {
	for _, tc := range readGoldens(t) {
		t.Run(fmt.Sprintf("sigma=%g/%dx%d", tc.Sigma, tc.Height, tc.Width), func(t *testing.T) {
			c := Calibration{Sigma: tc.Sigma, Gain: tc.Gain, Bias: tc.Bias}
			dir := filepath.Join(t.TempDir(), "model")
			require.NoError(t, WriteModel(dir, c))
			sess, sig := openModel(t, dir)
			x := tfops.MustFromSlice(tc.Image, 1, tc.Height, tc.Width, 1)
			out, err := sess.Run(context.Background(), map[string]*tfops.Tensor{sig.Inputs[InputName].Name: x},
				[]string{sig.Outputs[OutputName].Name, LogitsNode + ":0"}, nil)
			if Radius(tc.Sigma) > min(tc.Height, tc.Width) {
				// MirrorPad SYMMETRIC cannot pad by more than the dimension.
				require.Error(t, err)
				assert.Contains(t, err.Error(), "MirrorPad")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []int{1, tc.Height, tc.Width, 1}, out[0].Shape())
			prob, logits := out[0].Float32s(), out[1].Float32s()
			for i := range prob {
				// float32 convolution of float32 inputs: ~1e-7 relative on s.
				assert.InDelta(t, tc.Gain*tc.Smoothed[i]+tc.Bias, float64(logits[i]), 1e-5*math.Max(1, math.Abs(tc.Gain)), "logit %d", i)
				assert.InDelta(t, tc.Probability[i], float64(prob[i]), 2e-6, "probability %d", i)
			}
		})
	}
}

func TestModelExport(t *testing.T) {
	e, err := Model(DefaultCalibration)
	require.NoError(t, err)
	assert.Len(t, e.Variables, 4)
	for name, shape := range map[string][]int{KernelYVariable: {13, 1, 1, 1}, KernelXVariable: {1, 13, 1, 1}} {
		k := e.Variables[name]
		require.NotNil(t, k, name)
		assert.Equal(t, shape, k.Shape())
		var sum float64
		for _, v := range k.Float32s() {
			sum += float64(v)
		}
		assert.InDelta(t, 1, sum, 1e-6, "the smoothing kernel %s sums to one", name)
	}
	assert.Equal(t, float32(DefaultCalibration.Gain), e.Variables[GainVariable].Float32s()[0])
	assert.Equal(t, "image:0", e.Signatures[savedmodel.DefaultSignatureKey].Inputs[InputName].Name)

	_, err = Model(Calibration{Sigma: 0, Gain: 1})
	assert.Error(t, err)
	dir := t.TempDir()
	require.NoError(t, WriteModel(dir, DefaultCalibration))
	err = WriteModel(dir, DefaultCalibration)
	require.Error(t, err, "an existing model is not overwritten")
}
