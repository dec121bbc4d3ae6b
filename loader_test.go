package tfseg_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/internal/fixtures"
	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

// fixtureModel returns the path of a SavedModel under
// ../shared/fixtures/savedmodels (beside the repository). Without it the
// test is skipped, unless CI=true, where a missing fixture fails.
func fixtureModel(t testing.TB, name string) string {
	t.Helper()
	return fixtures.SavedModel(t, name)
}

func loadModel(t testing.TB, dir string, opts ...tfseg.Option) *tfseg.Model {
	t.Helper()
	m, err := tfseg.Load(dir, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// runScalar runs signature key on one float32 input and returns the one
// float32 value of output out.
func runScalar(t *testing.T, m *tfseg.Model, key, in, out string, x *tfops.Tensor) float32 {
	t.Helper()
	res, err := m.Run(context.Background(), key, map[string]*tfops.Tensor{in: x})
	require.NoError(t, err)
	require.Contains(t, res, out)
	v := res[out].Float32s()
	require.Len(t, v, 1)
	return v[0]
}

func TestLoadHalfPlusTwoTF1(t *testing.T) {
	m := loadModel(t, fixtureModel(t, "half-plus-two-tf1"))
	var keys []string
	for _, s := range m.Signatures() {
		keys = append(keys, s.Key)
	}
	assert.Equal(t, []string{"classify_x_to_y", "regress_x2_to_y3", "regress_x_to_y", "regress_x_to_y2", "serving_default"}, keys)
	sig, err := m.Signature("serving_default")
	require.NoError(t, err)
	assert.Equal(t, []tfseg.TensorSpec{{Name: "x", DType: tfops.Float, Shape: tfops.MakeShape(-1, 1), Tensor: "x:0"}}, sig.Inputs)

	x := tfops.MustFromSlice([]float32{2}, 1, 1)
	assert.Equal(t, float32(3), runScalar(t, m, "serving_default", "x", "y", x))
	assert.Equal(t, float32(4), runScalar(t, m, "regress_x2_to_y3", "inputs", "outputs", x))
}

func TestLoadHalfPlusTwoTF2(t *testing.T) {
	// TensorFlow 1.15 cannot load this one (ParseExampleV2): Go engine only.
	m := loadModel(t, fixtureModel(t, "half-plus-two-tf2"))
	x := tfops.MustFromSlice([]float32{2}, 1)
	assert.Equal(t, float32(3), runScalar(t, m, "serving_default", "x", "y", x))
	assert.Equal(t, float32(4), runScalar(t, m, "regress_x2_to_y3", "inputs", "outputs", x))
	assert.Equal(t, float32(4), runScalar(t, m, "classify_x2_to_y3", "inputs", "scores", x))

	// serving_default declares x = [0] as its default (SignatureDef.defaults):
	// omitted, y = 0.5*0 + 2.
	sig, err := m.Signature("serving_default")
	require.NoError(t, err)
	require.NotNil(t, sig.Inputs[0].Default)
	assert.Equal(t, []float32{0}, sig.Inputs[0].Default.Float32s())
	res, err := m.Run(context.Background(), "serving_default", nil)
	require.NoError(t, err)
	assert.Equal(t, []float32{2}, res["y"].Float32s())
	// regress_x2_to_y3 has no default: its input stays required.
	_, err = m.Run(context.Background(), "regress_x2_to_y3", nil)
	assert.ErrorIs(t, err, tfseg.ErrInput)
	assert.ErrorContains(t, err, "missing input(s) inputs")
}

func TestLoadModuleVariables(t *testing.T) {
	m := loadModel(t, fixtureModel(t, "tf-module-vars"))
	one := tfops.FromScalar(float32(1))
	assert.Equal(t, float32(2), runScalar(t, m, "get_variable", "dummy", "output_0", one))
	res, err := m.Run(context.Background(), "add", map[string]*tfops.Tensor{"a": tfops.FromScalar(float32(1.5)), "b": tfops.FromScalar(float32(2))})
	require.NoError(t, err)
	assert.Equal(t, []float32{3.5}, res["output_0"].Float32s())
	for _, key := range []string{"get_const_scalar", "get_const_vector", "get_const_matrix"} {
		res, err := m.Run(context.Background(), key, map[string]*tfops.Tensor{"input": one})
		require.NoError(t, err, key)
		sig, err := m.Signature(key)
		require.NoError(t, err)
		assert.True(t, sig.Outputs[0].Shape.CompatibleWith(res["output_0"].StaticShape()), "%s returns %v, signature says %v", key, res["output_0"].StaticShape(), sig.Outputs[0].Shape)
	}
}

// TestRegressionTrainSignature runs the "train" signature, one SGD step in
// the graph (gradients and ResourceApplyGradientDescent), 201 times on
// y = 0.1x + 0.3; w and b must reach 0.1 and 0.3.
func TestRegressionTrainSignature(t *testing.T) {
	m := loadModel(t, fixtureModel(t, "tf-regression-train"))
	ctx := context.Background()
	xs := make([]float32, 50)
	ys := make([]float32, 50)
	for i := range xs {
		xs[i] = float32(i)/25 - 1 // in [-1, 1): the model's learning rate is 0.5
		ys[i] = 0.1*xs[i] + 0.3
	}
	in := map[string]*tfops.Tensor{"x": tfops.MustFromSlice(xs, len(xs)), "y": tfops.MustFromSlice(ys, len(ys))}
	var loss float32
	for step := 0; step < 201; step++ {
		res, err := m.Run(ctx, "train", in)
		require.NoError(t, err, "step %d", step)
		for _, v := range res {
			loss = v.Float32s()[0]
		}
	}
	w, err := m.Run(ctx, "w", nil)
	require.NoError(t, err)
	b, err := m.Run(ctx, "b", nil)
	require.NoError(t, err)
	get := func(r map[string]*tfops.Tensor) float64 {
		for _, v := range r {
			return float64(v.Float32s()[0])
		}
		return math.NaN()
	}
	assert.InDelta(t, 0.1, get(w), 1e-3, "w after 201 steps (loss %g)", loss)
	assert.InDelta(t, 0.3, get(b), 1e-3, "b after 201 steps (loss %g)", loss)
}

func TestLoadKerasDense(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	randn := func(n int) *tfops.Tensor {
		v := make([]float32, n*5)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return tfops.MustFromSlice(v, n, 5)
	}
	t.Run("single", func(t *testing.T) {
		m := loadModel(t, fixtureModel(t, "keras-dense-single"))
		res, err := m.Run(context.Background(), "serving_default", map[string]*tfops.Tensor{"test_in_input": randn(4)})
		require.NoError(t, err)
		loaderAssertProbabilities(t, res["test_out"], []int{4, 1})
	})
	t.Run("multi", func(t *testing.T) {
		m := loadModel(t, fixtureModel(t, "keras-dense-multi"))
		res, err := m.Run(context.Background(), "serving_default", map[string]*tfops.Tensor{"test_in1": randn(3), "test_in2": randn(3)})
		require.NoError(t, err)
		loaderAssertProbabilities(t, res["test_out"], []int{3, 1})
	})
}

// loaderAssertProbabilities checks the shape of a sigmoid output and that
// its values lie in (0, 1).
func loaderAssertProbabilities(t *testing.T, out *tfops.Tensor, shape []int) {
	t.Helper()
	require.NotNil(t, out)
	assert.Equal(t, shape, out.Shape())
	for i, v := range out.Float32s() {
		assert.True(t, v > 0 && v < 1, "element %d = %v is not a probability", i, v)
	}
}

// noisyCircles returns n h×w single-channel images of bright discs on a
// dark, noisy background, as the U-Net fixture was trained on.
func noisyCircles(n, h, w int, seed int64) *tfops.Tensor {
	rng := rand.New(rand.NewSource(seed))
	img := make([]float32, n*h*w)
	for b := 0; b < n; b++ {
		type disc struct{ y, x, r float64 }
		discs := make([]disc, 1+rng.Intn(3))
		for i := range discs {
			discs[i] = disc{rng.Float64() * float64(h), rng.Float64() * float64(w), 5 + rng.Float64()*float64(min(h, w))/5}
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := 0.2 * rng.NormFloat64()
				for _, d := range discs {
					if (float64(y)-d.y)*(float64(y)-d.y)+(float64(x)-d.x)*(float64(x)-d.x) < d.r*d.r {
						v += 1
					}
				}
				img[(b*h+y)*w+x] = float32(v)
			}
		}
	}
	return tfops.MustFromSlice(img, n, h, w, 1)
}

func TestUNetOutputShapeAndSoftmax(t *testing.T) {
	m := loadModel(t, fixtureModel(t, "keras-unet-circles"))
	sig, err := m.Signature("serving_default")
	require.NoError(t, err)
	require.Len(t, sig.Inputs, 1)
	require.Len(t, sig.Outputs, 1)
	for _, tc := range []struct{ n, size, out int }{{1, 100, 60}, {2, 92, 52}} {
		t.Run(fmt.Sprintf("%dx%dx%d", tc.n, tc.size, tc.size), func(t *testing.T) {
			res, err := m.Run(context.Background(), "serving_default", map[string]*tfops.Tensor{sig.Inputs[0].Name: noisyCircles(tc.n, tc.size, tc.size, 5)})
			require.NoError(t, err)
			out := res[sig.Outputs[0].Name]
			require.NotNil(t, out)
			assert.Equal(t, []int{tc.n, tc.out, tc.out, 2}, out.Shape())
			v := out.Float32s()
			for i := 0; i < len(v); i += 2 {
				if s := v[i] + v[i+1]; math.Abs(float64(s)-1) > 1e-5 || v[i] < 0 || v[i+1] < 0 {
					t.Fatalf("pixel %d: softmax (%v, %v) does not sum to 1", i/2, v[i], v[i+1])
				}
			}
		})
	}
}

func TestModelRunConcurrently(t *testing.T) {
	m := loadModel(t, fixtureModel(t, "half-plus-two-tf1"))
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				x := float32(g*100 + i)
				res, err := m.Run(context.Background(), "serving_default", map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float32{x}, 1, 1)})
				if err != nil {
					t.Error(err)
					return
				}
				if got := res["y"].Float32s()[0]; got != 0.5*x+2 {
					t.Errorf("x=%v: y=%v", x, got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestModelRunErrors(t *testing.T) {
	m := loadModel(t, fixtureModel(t, "half-plus-two-tf1"))
	ctx := context.Background()
	good := tfops.MustFromSlice([]float32{2}, 1, 1)
	for _, tc := range []struct {
		name   string
		key    string
		inputs map[string]*tfops.Tensor
		is     error
		want   []string
	}{
		{"unknown signature", "predict", map[string]*tfops.Tensor{"x": good}, tfseg.ErrSignature,
			[]string{`"predict"`, "classify_x_to_y, regress_x2_to_y3, regress_x_to_y, regress_x_to_y2, serving_default"}},
		{"unknown input", "serving_default", map[string]*tfops.Tensor{"x": good, "z": good}, tfseg.ErrInput,
			[]string{`no input "z"`, "x float32(?, 1)"}},
		{"missing input", "serving_default", nil, tfseg.ErrInput, []string{"missing input(s) x"}},
		{"nil input", "serving_default", map[string]*tfops.Tensor{"x": nil}, tfseg.ErrInput, []string{`input "x" is nil`}},
		{"wrong dtype", "serving_default", map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float64{2}, 1, 1)}, tfseg.ErrInput,
			[]string{`input "x" must be float32, got float64`}},
		{"wrong shape", "serving_default", map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float32{2, 3}, 1, 2)}, tfseg.ErrInput,
			[]string{`input "x" must have shape (?, 1), got (1, 2)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Run(ctx, tc.key, tc.inputs)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
	require.NoError(t, m.Close())
	_, err := m.Run(ctx, "serving_default", map[string]*tfops.Tensor{"x": good})
	assert.ErrorIs(t, err, tfseg.ErrClosed)
	assert.NoError(t, m.Close(), "Close twice is fine")
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := tfseg.Load(filepath.Join(dir, "absent"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.ErrorContains(t, err, "saved_model.pb")

	_, err = tfseg.Load(dir, tfseg.WithEngine("nope"))
	assert.ErrorIs(t, err, engine.ErrUnknownEngine)

	// A model whose signature needs an op the Go engine does not know loads
	// (its other signatures may be fine), says so in Signature.Missing, and
	// fails at Run, before reading the inputs, naming op and node; asked for
	// by name (WithSignatures), it fails to load.
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(-1))
	y := s.AddOp(tfops.OpSpec{Type: "FancyNewOp", Name: "fancy", Inputs: []any{x},
		Outputs: []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.MakeShape(-1)}}}).Output(0)
	gd, err := s.Finalize()
	require.NoError(t, err)
	odd := filepath.Join(dir, "odd")
	require.NoError(t, savedmodel.Write(odd, &savedmodel.Export{Graph: gd, Signatures: map[string]savedmodel.Signature{
		"serving_default": {
			Inputs:  map[string]savedmodel.TensorInfo{"x": {Name: x.Name(), DType: tfops.Float, Shape: tfops.MakeShape(-1)}},
			Outputs: map[string]savedmodel.TensorInfo{"y": {Name: y.Name(), DType: tfops.Float, Shape: tfops.MakeShape(-1)}},
		},
	}}))
	m := loadModel(t, odd)
	sig, err := m.Signature("serving_default")
	require.NoError(t, err)
	assert.Equal(t, []string{"FancyNewOp (node fancy)"}, sig.Missing)
	_, err = m.Run(context.Background(), "serving_default", nil) // no input: the op is reported first
	assert.ErrorIs(t, err, engine.ErrUnsupportedOp)
	assert.ErrorContains(t, err, "FancyNewOp (node fancy)")
	_, err = tfseg.Load(odd, tfseg.WithSignatures("serving_default"))
	assert.ErrorIs(t, err, engine.ErrUnsupportedOp)
	assert.ErrorContains(t, err, `signature "serving_default" needs FancyNewOp (node fancy)`)
	_, err = tfseg.Load(odd, tfseg.WithSignatures("nope"))
	assert.ErrorIs(t, err, tfseg.ErrSignature)

	_, err = tfseg.Load(odd, tfseg.WithTags("train"))
	assert.ErrorIs(t, err, savedmodel.ErrTags)
}

func TestLoadLimits(t *testing.T) {
	dir := fixtureModel(t, "keras-unet-circles")
	m := loadModel(t, dir, tfseg.WithLimits(engine.Limits{MaxTensorBytes: 1 << 20}), tfseg.WithThreads(1))
	_, err := m.Run(context.Background(), "serving_default", map[string]*tfops.Tensor{"inputs": noisyCircles(1, 172, 172, 1)})
	assert.ErrorIs(t, err, engine.ErrLimit)
	assert.ErrorContains(t, err, "MaxTensorBytes")
}

func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	model := filepath.Join(dir, "model") // a SavedModel: here tfseg's demo model
	if err := baseline.WriteModel(model, baseline.DefaultCalibration); err != nil {
		log.Fatal(err)
	}

	m, err := tfseg.Load(model) // the pure-Go engine; tfseg.WithEngine("tensorflow") for real TensorFlow
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	black, _ := tfops.Zeros(tfops.Float, 1, 8, 8, 1) // one 8x8 grey image, NHWC
	out, err := m.Run(context.Background(), "serving_default", map[string]*tfops.Tensor{"image": black})
	if err != nil {
		log.Fatal(err)
	}
	// Black smooths to black: probability σ(gain·0 + bias) everywhere.
	p := out["probability"]
	fmt.Println(p.Shape(), math.Abs(p.At(0, 4, 4, 0)-1/(1+math.Exp(-baseline.DefaultCalibration.Bias))) < 1e-6)
	// Output: [1 8 8 1] true
}

func ExampleModel_Signatures() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	if err := baseline.WriteModel(filepath.Join(dir, "model"), baseline.DefaultCalibration); err != nil {
		log.Fatal(err)
	}
	m, err := tfseg.Load(filepath.Join(dir, "model"))
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	for _, s := range m.Signatures() {
		for _, in := range s.Inputs {
			fmt.Printf("%s input %s: %v%v\n", s.Key, in.Name, in.DType, in.Shape)
		}
		for _, out := range s.Outputs {
			fmt.Printf("%s output %s: %v%v\n", s.Key, out.Name, out.DType, out.Shape)
		}
	}
	// Output:
	// serving_default input image: float32(?, ?, ?, 1)
	// serving_default output probability: float32(?, ?, ?, 1)
}

func ExampleModel_Run_errors() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	if err := baseline.WriteModel(filepath.Join(dir, "model"), baseline.DefaultCalibration); err != nil {
		log.Fatal(err)
	}
	m, err := tfseg.Load(filepath.Join(dir, "model"))
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	_, err = m.Run(context.Background(), "serving_default", map[string]*tfops.Tensor{"input": tfops.FromScalar(float32(1))})
	fmt.Println(errors.Is(err, tfseg.ErrInput))
	fmt.Println(err)
	// Output:
	// true
	// tfseg: bad input: signature "serving_default" has no input "input"; its inputs: image float32(?, ?, ?, 1)
}

// benchEngines are the engines BenchmarkUNet compares; the tensorflow
// build adds "tensorflow".
var benchEngines = []string{"go"}

func BenchmarkUNet(b *testing.B) {
	dir := fixtureModel(b, "keras-unet-circles")
	for _, eng := range benchEngines {
		m := loadModel(b, dir, tfseg.WithEngine(eng))
		for _, size := range []int{172, 572} {
			b.Run(fmt.Sprintf("engine=%s/size=1x%dx%d", eng, size, size), func(b *testing.B) {
				in := map[string]*tfops.Tensor{"inputs": noisyCircles(1, size, size, 3)}
				for i := 0; i < b.N; i++ {
					if _, err := m.Run(context.Background(), "serving_default", in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
