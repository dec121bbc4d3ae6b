package tfseg_test

import (
	"context"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/tfops"
)

// The model zoo: SavedModels that real TensorFlow wrote, run on the Go
// engine here and compared with libtensorflow in zoo_tf_test.go. The
// corpus (../shared/fixtures/corpus, see its README for provenance) holds
// models people trained and published; ../shared/fixtures/savedmodels holds
// the project's own fixtures.

// zooModel is one model of the zoo and how to feed it.
type zooModel struct {
	// dir is relative to ../shared/fixtures.
	dir string
	// what the model is.
	what string
	// signature to run (default serving_default).
	signature string
	// dims replaces the -1 dimensions of every input, in order (default:
	// batch 2, other unknown dimensions 64).
	dims []int
	// input makes the value of input name with the given shape (default:
	// uniform in [0, 1)).
	input func(rng *rand.Rand, name string, dims []int) *tfops.Tensor
	// tfRefuses, when set, is the reason libtensorflow 1.15 cannot load the
	// model, which the tensorflow engine's error must contain; check then
	// verifies the Go engine's outputs against known values instead.
	tfRefuses string
	check     func(t *testing.T, in, out map[string]*tfops.Tensor)
}

// halfPlusTwo checks TensorFlow Serving's half_plus_two: y = x/2 + 2.
func halfPlusTwo(t *testing.T, in, out map[string]*tfops.Tensor) {
	x, y := in["x"].Float32s(), out["y"].Float32s()
	require.Len(t, y, len(x))
	for i := range x {
		require.Equal(t, x[i]*0.5+2, y[i], "element %d", i)
	}
}

func uniformInput(rng *rand.Rand, _ string, dims []int) *tfops.Tensor {
	v := make([]float32, tfops.NumElements(dims))
	for i := range v {
		v[i] = rng.Float32()
	}
	return tfops.MustFromSlice(v, dims...)
}

func normalInput(rng *rand.Rand, _ string, dims []int) *tfops.Tensor {
	v := make([]float32, tfops.NumElements(dims))
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return tfops.MustFromSlice(v, dims...)
}

// tokenInput gives word indices below n as floats, as the bAbI model's
// Embedding layers read them.
func tokenInput(n int) func(rng *rand.Rand, _ string, dims []int) *tfops.Tensor {
	return func(rng *rand.Rand, _ string, dims []int) *tfops.Tensor {
		v := make([]float32, tfops.NumElements(dims))
		for i := range v {
			v[i] = float32(rng.Intn(n))
		}
		return tfops.MustFromSlice(v, dims...)
	}
}

var zoo = []zooModel{
	{dir: "corpus/seg-carlos-unet", what: "small U-Net, UpSampling2D nearest, sigmoid (TF 2.13)", dims: []int{1}},
	{dir: "corpus/seg-lenny-unet", what: "U-Net, Conv2DTranspose, softmax + argmax head (TF 2.9)", dims: []int{1}},
	{dir: "corpus/seg-ship-unet", what: "ship U-Net, BatchNorm, dynamic H/W (TF 2.12)", dims: []int{2, 96, 128}},
	{dir: "corpus/seg-p8-cityscapes", what: "Keras 3 mini U-Net, 8 classes (TF 2.16)", dims: []int{1}},
	{dir: "corpus/cnn-enhancer", what: "Keras 3 export, CNN + global pooling regressor (TF 2.21)"},
	{dir: "corpus/cnn-openmv-mobilenet", what: "MobileNet-style, depthwise, BN, ReLU6, augmentation layers (TF 2.8)"},
	{dir: "corpus/cnn-mcunet", what: "MCUNet from PyTorch, NCHW, depthwise, Split (TF 2.11)", input: normalInput},
	{dir: "corpus/other-vit-encoder", what: "ViT encoder, MultiHeadAttention, LayerNorm, GELU/Erf (TF 2.10)", input: normalInput},
	{dir: "corpus/other-lstm-ts", what: "stacked LSTM, While + TensorLists (TF 2.2)", dims: []int{3}, input: normalInput},
	{dir: "corpus/other-babi-memnet", what: "memory network, Embedding + LSTM, StatelessWhile (TF 2.13)", input: tokenInput(20)},
	{dir: "savedmodels/keras-unet-circles", what: "the project's Keras U-Net fixture (TF 2.10)", dims: []int{2, 100, 100}, input: normalInput},
	{dir: "savedmodels/keras-dense-single", what: "Keras Dense model", input: normalInput},
	{dir: "savedmodels/keras-dense-multi", what: "Keras two-input Dense model", input: normalInput},
	{dir: "savedmodels/half-plus-two-tf1", what: "TensorFlow Serving's half_plus_two (TF1)", input: normalInput},
	{dir: "savedmodels/half-plus-two-tf2", what: "TensorFlow Serving's half_plus_two (TF2)", input: normalInput,
		tfRefuses: "op ParseExampleV2 is not in the TensorFlow library's op registry", check: halfPlusTwo},
	{dir: "savedmodels/tf-module-vars", what: "tf.Module with variables, signature add", signature: "add", input: normalInput},
}

// zooDir returns the model's directory; without ../shared the test skips,
// unless CI=true, where a missing model fails.
func zooDir(t testing.TB, m zooModel) string {
	t.Helper()
	dir := filepath.Join("..", "shared", "fixtures", filepath.FromSlash(m.dir))
	if _, err := os.Stat(filepath.Join(dir, "saved_model.pb")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("zoo model %s is missing: %v", dir, err)
		}
		t.Skipf("zoo model %s not found (the fixtures live in ../shared beside the repository): %v", dir, err)
	}
	return dir
}

// zooInputs builds the inputs of the model's signature from a fixed seed.
func zooInputs(t testing.TB, zm zooModel, sig tfseg.Signature) map[string]*tfops.Tensor {
	t.Helper()
	rng := rand.New(rand.NewSource(7))
	mk := zm.input
	if mk == nil {
		mk = uniformInput
	}
	unknown := 0
	in := map[string]*tfops.Tensor{}
	for _, s := range sig.Inputs {
		if !s.Shape.RankKnown() { // tf.function inputs traced without a shape
			require.Equal(t, tfops.Float, s.DType, "input %s", s.Name)
			in[s.Name] = mk(rng, s.Name, []int{4})
			continue
		}
		dims := make([]int, s.Shape.Rank())
		for i, d := range s.Shape.Dims() {
			dims[i] = int(d)
			if d < 0 {
				switch {
				case unknown < len(zm.dims):
					dims[i] = zm.dims[unknown]
				case i == 0:
					dims[i] = 2
				default:
					dims[i] = 64
				}
				unknown++
			}
		}
		require.Equal(t, tfops.Float, s.DType, "input %s", s.Name)
		in[s.Name] = mk(rng, s.Name, dims)
	}
	return in
}

func (zm zooModel) sigKey() string {
	if zm.signature != "" {
		return zm.signature
	}
	return "serving_default"
}

// TestZooGoEngine runs every zoo model on the Go engine: it loads (every op
// its signature reaches has a kernel, its variables restore), runs, and
// gives finite outputs of the shapes the signature declares.
func TestZooGoEngine(t *testing.T) {
	for _, zm := range zoo {
		t.Run(filepath.Base(zm.dir), func(t *testing.T) {
			m := loadModel(t, zooDir(t, zm), tfseg.WithSignatures(zm.sigKey()))
			sig, err := m.Signature(zm.sigKey())
			require.NoError(t, err)
			out, err := m.Run(context.Background(), sig.Key, zooInputs(t, zm, sig))
			require.NoError(t, err)
			for _, spec := range sig.Outputs {
				o := out[spec.Name]
				require.NotNil(t, o, "output %s", spec.Name)
				require.True(t, spec.Shape.CompatibleWith(o.StaticShape()), "output %s: shape %v, signature says %v", spec.Name, o.Shape(), spec.Shape)
				require.Equal(t, spec.DType, o.DType(), "output %s", spec.Name)
				if o.DType() == tfops.Float {
					for i, v := range o.Float32s() {
						require.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0), "output %s element %d is %v", spec.Name, i, v)
					}
				}
			}
		})
	}
}
