//go:build tensorflow

package tfengine_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/tfengine"
	fx "github.com/tfseg/tfseg/internal/fixtures"
	"github.com/tfseg/tfseg/tfops"
)

// fixtures is the shared fixtures directory, relative to this package.
const fixtures = "../../../shared/fixtures"

// fixture returns the path of a shared fixture. Without ../shared it skips
// the test, except under CI=true, where a missing fixture is a failure.
func fixture(t *testing.T, rel string) string {
	t.Helper()
	return fx.Require(t, filepath.Join(fixtures, rel), "")
}

func tfEngine(t *testing.T) engine.Engine {
	t.Helper()
	e, err := engine.Get(tfengine.Name)
	require.NoError(t, err)
	return e
}

// open finalizes s and opens a tensorflow session on it.
func open(t *testing.T, s *tfops.Scope) engine.Session {
	t.Helper()
	gd, err := s.Finalize()
	require.NoError(t, err)
	sess, err := tfEngine(t).NewSession(gd, engine.SessionOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, sess.Close()) })
	return sess
}

func TestRegistered(t *testing.T) {
	e := tfEngine(t)
	assert.Equal(t, "tensorflow", e.Name())
	_, ok := e.(engine.SavedModelLoader)
	assert.True(t, ok, "the tensorflow engine loads SavedModels itself")
	assert.Contains(t, engine.Names(), "tensorflow")
}

// TestGraphs runs small tfops graphs on TensorFlow and checks every element.
func TestGraphs(t *testing.T) {
	tests := []struct {
		name  string
		build func(s *tfops.Scope) (fetch string)
		feeds map[string]*tfops.Tensor
		want  *tfops.Tensor
	}{{
		name: "AddV2 float32 broadcast",
		build: func(s *tfops.Scope) string {
			x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(-1, 3))
			return tfops.AddV2(s, x, tfops.Const(s, tfops.MustFromSlice([]float32{10, 20, 30}, 3))).Name()
		},
		feeds: map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)},
		want:  tfops.MustFromSlice([]float32{11, 22, 33, 14, 25, 36}, 2, 3),
	}, {
		name: "Log1p float64 tiny values",
		build: func(s *tfops.Scope) string {
			x := tfops.Placeholder(s.WithOpName("x"), tfops.Double, tfops.MakeShape(4))
			return tfops.Log1p(s, x).Name()
		},
		feeds: map[string]*tfops.Tensor{"x:0": tfops.MustFromSlice([]float64{0, 1e-10, 1, -0.5}, 4)},
		want:  tfops.MustFromSlice([]float64{0, math.Log1p(1e-10), math.Log(2), math.Log(0.5)}, 4),
	}, {
		name: "Sum int32 all axes gives a scalar",
		build: func(s *tfops.Scope) string {
			x := tfops.Placeholder(s.WithOpName("x"), tfops.Int32, tfops.MakeShape(2, 3))
			return tfops.Sum(s, x, tfops.AllAxes(x), false).Name()
		},
		feeds: map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]int32{1, 2, 3, 4, 5, -6}, 2, 3)},
		want:  tfops.FromScalar(int32(9)),
	}, {
		name: "Sum int64 axis 1 keep dims",
		build: func(s *tfops.Scope) string {
			x := tfops.Placeholder(s.WithOpName("x"), tfops.Int64, tfops.MakeShape(2, 3))
			return tfops.Sum(s, x, []int{1}, true).Name()
		},
		feeds: map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]int64{1 << 40, 2, 3, 4, 5, 6}, 2, 3)},
		want:  tfops.MustFromSlice([]int64{1<<40 + 5, 15}, 2, 1),
	}, {
		name: "scalar feed and const",
		build: func(s *tfops.Scope) string {
			x := tfops.Placeholder(s.WithOpName("x"), tfops.Double, tfops.ScalarShape())
			return tfops.AddV2(s, x, tfops.Scalar(s, tfops.Double, 0.25)).Name()
		},
		feeds: map[string]*tfops.Tensor{"x": tfops.FromScalar(1.5)},
		want:  tfops.FromScalar(1.75),
	}, {
		name: "empty tensor through Sum over the empty axis",
		build: func(s *tfops.Scope) string {
			x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(-1, 3))
			return tfops.Sum(s, x, []int{0}, false).Name()
		},
		feeds: map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float32{}, 0, 3)},
		want:  tfops.MustFromSlice([]float32{0, 0, 0}, 3),
	}, {
		name: "empty tensor round trip",
		build: func(s *tfops.Scope) string {
			x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(2, -1, 3))
			return tfops.Identity(s, x).Name()
		},
		feeds: map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float32{}, 2, 0, 3)},
		want:  tfops.MustFromSlice([]float32{}, 2, 0, 3),
	}, {
		name: "Const without feeds",
		build: func(s *tfops.Scope) string {
			return tfops.Const(s, tfops.MustFromSlice([]float64{math.Pi, math.Copysign(0, -1), math.Inf(1)}, 3, 1)).Name()
		},
		want: tfops.MustFromSlice([]float64{math.Pi, math.Copysign(0, -1), math.Inf(1)}, 3, 1),
	}}
	for _, d := range []struct {
		name string
		t    *tfops.Tensor
	}{
		{"bool", tfops.MustFromSlice([]bool{true, false, false, true}, 2, 2)},
		{"uint8", tfops.MustFromSlice([]uint8{0, 1, 254, 255}, 4, 1)},
		{"int8", tfops.MustFromSlice([]int8{-128, -1, 0, 127}, 1, 4)},
		{"int16", tfops.MustFromSlice([]int16{-32768, 7, 32767}, 3)},
		{"uint16", tfops.MustFromSlice([]uint16{0, 65535}, 2)},
		{"int32", tfops.MustFromSlice([]int32{math.MinInt32, math.MaxInt32}, 1, 1, 2)},
		{"int64", tfops.MustFromSlice([]int64{math.MinInt64, math.MaxInt64}, 2)},
		{"float32", tfops.MustFromSlice([]float32{float32(math.NaN()), math.SmallestNonzeroFloat32}, 2)},
		{"float64", tfops.MustFromSlice([]float64{math.MaxFloat64, -math.SmallestNonzeroFloat64}, 2)},
		{"bool scalar", tfops.FromScalar(true)},
	} {
		in := d.t
		tests = append(tests, struct {
			name  string
			build func(s *tfops.Scope) (fetch string)
			feeds map[string]*tfops.Tensor
			want  *tfops.Tensor
		}{
			name: "Identity round trip " + d.name,
			build: func(s *tfops.Scope) string {
				x := tfops.Placeholder(s.WithOpName("x"), in.DType(), in.StaticShape())
				return tfops.Identity(s, x).Name()
			},
			feeds: map[string]*tfops.Tensor{"x": in},
			want:  in,
		})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tfops.NewScope()
			fetch := tc.build(s)
			sess := open(t, s)
			got, err := sess.Run(context.Background(), tc.feeds, []string{fetch}, nil)
			require.NoError(t, err)
			require.Len(t, got, 1)
			assertTensor(t, tc.want, got[0])
		})
	}
}

// assertTensor checks dtype, shape and every element; floats must match to
// the last bit except NaN, which must stay NaN.
func assertTensor(t *testing.T, want, got *tfops.Tensor) {
	t.Helper()
	require.Equal(t, want.DType(), got.DType(), "dtype")
	require.Equal(t, want.Shape(), got.Shape(), "shape")
	switch w := want.Data().(type) {
	case []float32:
		g := got.Data().([]float32)
		for i := range w {
			if math.IsNaN(float64(w[i])) {
				assert.True(t, math.IsNaN(float64(g[i])), "element %d: want NaN, got %v", i, g[i])
				continue
			}
			assert.Equal(t, math.Float32bits(w[i]), math.Float32bits(g[i]), "element %d: want %v, got %v", i, w[i], g[i])
		}
	case []float64:
		// Float64 results may differ from Go's math in the last bit (libm).
		g := got.Data().([]float64)
		for i := range w {
			if w[i] == 0 || math.IsInf(w[i], 0) || math.IsNaN(w[i]) {
				assert.Equal(t, math.Float64bits(w[i]), math.Float64bits(g[i]), "element %d: want %v, got %v", i, w[i], g[i])
				continue
			}
			assert.InDelta(t, w[i], g[i], 2.3e-16*math.Abs(w[i]), "element %d: want %v, got %v, off by %g", i, w[i], g[i], g[i]-w[i])
		}
	default:
		assert.Equal(t, want.Data(), got.Data())
	}
}

func TestRunErrors(t *testing.T) {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(2))
	y := tfops.Log1p(s.WithOpName("y"), x)
	tfops.Const(s.WithOpName("str"), tfops.MustFromSlice([]string{"a", "b"}, 2))
	// a and b of unknown length: feeds of different lengths pass the feed
	// checks and make the AddV2 kernel fail inside TensorFlow.
	a := tfops.Placeholder(s.WithOpName("a"), tfops.Float, tfops.MakeShape(-1))
	b := tfops.Placeholder(s.WithOpName("b"), tfops.Float, tfops.MakeShape(-1))
	tfops.AddV2(s.WithOpName("sum"), a, b)
	sess := open(t, s)
	two := tfops.MustFromSlice([]float32{1, 2}, 2)

	tests := []struct {
		name    string
		feeds   map[string]*tfops.Tensor
		fetches []string
		targets []string
		is      error
		msg     string
	}{
		{"unknown feed node", map[string]*tfops.Tensor{"nope": two}, []string{y.Name()}, nil, engine.ErrUnknownNode, `"nope"`},
		{"feed output index out of range", map[string]*tfops.Tensor{"x:3": two}, []string{y.Name()}, nil, engine.ErrUnknownNode, `no output 3`},
		{"unknown fetch node", map[string]*tfops.Tensor{"x": two}, []string{"missing:0"}, nil, engine.ErrUnknownNode, `"missing"`},
		{"control fetch", map[string]*tfops.Tensor{"x": two}, []string{"^y"}, nil, engine.ErrUnknownNode, `control input`},
		{"unknown target", map[string]*tfops.Tensor{"x": two}, nil, []string{"ghost"}, engine.ErrUnknownNode, `"ghost"`},
		{"feed dtype mismatch", map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float64{1, 2}, 2)}, []string{y.Name()}, nil, engine.ErrFeed, `float64`},
		{"string feed", map[string]*tfops.Tensor{"str": tfops.MustFromSlice([]string{"c", "d"}, 2)}, []string{y.Name()}, nil, engine.ErrFeed, `string tensors`},
		{"nil feed", map[string]*tfops.Tensor{"x": nil}, []string{y.Name()}, nil, engine.ErrFeed, `nil tensor`},
		{"missing placeholder feed", nil, []string{y.Name()}, nil, engine.ErrFeed, `'x'`},
		{"string fetch", nil, []string{"str"}, nil, engine.ErrUnsupportedOp, `string tensors`},
		{"feed shape mismatch", map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float32{1, 2, 3}, 3)}, []string{y.Name()}, nil, engine.ErrFeed, `got shape [3], the graph expects [2]`},
		{"feed rank mismatch", map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float32{1, 2}, 1, 2)}, []string{y.Name()}, nil, engine.ErrFeed, `got shape [1 2]`},
		{"kernel failure", map[string]*tfops.Tensor{"a": two, "b": tfops.MustFromSlice([]float32{1, 2, 3}, 3)}, []string{"sum"}, nil, engine.ErrKernel, `Incompatible shapes`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sess.Run(context.Background(), tc.feeds, tc.fetches, tc.targets)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}

	t.Run("targets run", func(t *testing.T) {
		got, err := sess.Run(context.Background(), map[string]*tfops.Tensor{"x": two}, nil, []string{"^y"})
		require.NoError(t, err)
		assert.Empty(t, got)
	})
	t.Run("canceled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := sess.Run(ctx, map[string]*tfops.Tensor{"x": two}, []string{y.Name()}, nil)
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestNewSessionErrors(t *testing.T) {
	e := tfEngine(t)
	tests := []struct {
		name  string
		graph *graphpb.GraphDef
		opts  engine.SessionOptions
		is    error
		msg   string
	}{
		{"nil graph", nil, engine.SessionOptions{}, engine.ErrInvalidGraph, "nil GraphDef"},
		{"unknown op", &graphpb.GraphDef{Node: []*nodepb.NodeDef{{Name: "n", Op: "NoSuchOpAnywhere"}}}, engine.SessionOptions{}, engine.ErrUnsupportedOp, "NoSuchOpAnywhere"},
		{"dangling input", &graphpb.GraphDef{Node: []*nodepb.NodeDef{{Name: "n", Op: "NoOp", Input: []string{"^gone"}}}}, engine.SessionOptions{}, engine.ErrInvalidGraph, "gone"},
		{"node limit", &graphpb.GraphDef{Node: []*nodepb.NodeDef{{Name: "a", Op: "NoOp"}, {Name: "b", Op: "NoOp"}}},
			engine.SessionOptions{Limits: engine.Limits{MaxNodes: 1}}, engine.ErrLimit, "2 nodes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.NewSession(tc.graph, tc.opts)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestCloseAndThreads(t *testing.T) {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.ScalarShape())
	y := tfops.Log1p(s, x)
	gd, err := s.Finalize()
	require.NoError(t, err)
	sess, err := tfEngine(t).NewSession(gd, engine.SessionOptions{Threads: 1})
	require.NoError(t, err)
	got, err := sess.Run(context.Background(), map[string]*tfops.Tensor{"x": tfops.FromScalar(float32(0))}, []string{y.Name()}, nil)
	require.NoError(t, err)
	assert.Equal(t, []float32{0}, got[0].Data())
	require.NoError(t, sess.Close())
	require.NoError(t, sess.Close(), "second Close")
	_, err = sess.Run(context.Background(), map[string]*tfops.Tensor{"x": tfops.FromScalar(float32(0))}, []string{y.Name()}, nil)
	assert.ErrorIs(t, err, engine.ErrClosed)
}

// TestConcurrentRun runs one session from many goroutines with different feeds.
func TestConcurrentRun(t *testing.T) {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Double, tfops.MakeShape(-1))
	y := tfops.Sum(s, tfops.Log1p(s, x), []int{0}, false)
	sess := open(t, s)
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for g := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := 0; it < 20; it++ {
				n := g*20 + it + 1
				in := make([]float64, n)
				want := 0.0
				for i := range in {
					in[i] = float64(i) / 8
					want += math.Log1p(in[i])
				}
				got, err := sess.Run(context.Background(), map[string]*tfops.Tensor{"x": tfops.MustFromSlice(in, n)}, []string{y.Name()}, nil)
				if err != nil {
					errs[g] = err
					return
				}
				if v := got[0].Data().([]float64)[0]; math.Abs(v-want) > 1e-12*math.Max(1, math.Abs(want)) {
					errs[g] = fmt.Errorf("goroutine %d, n=%d: got %v, want %v", g, n, v, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err)
	}
}

// loadSavedModel loads a fixture SavedModel with tag "serve".
func loadSavedModel(t *testing.T, rel string) *tfengine.Session {
	t.Helper()
	dir := fixture(t, rel)
	loader := tfEngine(t).(engine.SavedModelLoader)
	sess, err := loader.LoadSavedModel(dir, []string{"serve"}, engine.SessionOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, sess.Close()) })
	return sess.(*tfengine.Session)
}

// TestSavedModelHalfPlusTwoTF1 runs the TF 1.14 half_plus_two model through
// its signatures: y = 0.5x + 2, and 0.5x + 3 through regress_x2_to_y3.
func TestSavedModelHalfPlusTwoTF1(t *testing.T) {
	sess := loadSavedModel(t, "savedmodels/half-plus-two-tf1")
	tests := []struct {
		signature, in, out string
		x, want            float32
	}{
		{"serving_default", "x", "y", 2, 3},
		{"serving_default", "x", "y", -4, 0},
		{"regress_x2_to_y3", "inputs", "outputs", 2, 4},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s/x=%v", tc.signature, tc.x), func(t *testing.T) {
			sig, ok := sess.Signatures()[tc.signature]
			require.True(t, ok, "signature %q missing; have %v", tc.signature, sess.Signatures())
			in, out := sig.Inputs[tc.in], sig.Outputs[tc.out]
			require.NotEmpty(t, in.Name)
			require.NotEmpty(t, out.Name)
			got, err := sess.Run(context.Background(),
				map[string]*tfops.Tensor{in.Name: tfops.MustFromSlice([]float32{tc.x}, 1, 1)},
				[]string{out.Name}, nil)
			require.NoError(t, err)
			assert.Equal(t, []int{1, 1}, got[0].Shape())
			assert.Equal(t, []float32{tc.want}, got[0].Data())
		})
	}
}

// TestSavedModelTF2NeedsNewerTensorFlow: the TF 2.14 half_plus_two uses
// ParseExampleV2, which TensorFlow 1.15 lacks. Against 1.15 the load must fail
// with ErrUnsupportedOp; against a 2.x library it must load and compute.
func TestSavedModelTF2NeedsNewerTensorFlow(t *testing.T) {
	dir := fixture(t, "savedmodels/half-plus-two-tf2")
	sess, err := tfEngine(t).(engine.SavedModelLoader).LoadSavedModel(dir, []string{"serve"}, engine.SessionOptions{})
	if err != nil {
		assert.ErrorIs(t, err, engine.ErrUnsupportedOp)
		assert.Contains(t, err.Error(), "ParseExampleV2")
		assert.Contains(t, err.Error(), dir)
		return
	}
	defer sess.Close()
	ts := sess.(*tfengine.Session)
	sig := ts.Signatures()["serving_default"]
	var in, out string
	for _, v := range sig.Inputs {
		in = v.Name
	}
	for _, v := range sig.Outputs {
		out = v.Name
	}
	got, err := sess.Run(context.Background(), map[string]*tfops.Tensor{in: tfops.MustFromSlice([]float32{2}, 1, 1)}, []string{out}, nil)
	require.NoError(t, err)
	assert.Equal(t, []float32{3}, got[0].Data())
}

func TestLoadSavedModelMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no-such-model")
	_, err := tfEngine(t).(engine.SavedModelLoader).LoadSavedModel(dir, []string{"serve"}, engine.SessionOptions{})
	require.Error(t, err)
	assert.ErrorIs(t, err, engine.ErrInvalidGraph)
	assert.Contains(t, err.Error(), dir)
}

// TestSavedModelKerasUNet runs the Keras (TF 2.10) U-Net on TensorFlow 1.15:
// valid padding turns 100x100 into 60x60 (172 into 132), and the softmax
// output is a probability pair per pixel.
func TestSavedModelKerasUNet(t *testing.T) {
	sess := loadSavedModel(t, "savedmodels/keras-unet-circles")
	sig, ok := sess.Signatures()["serving_default"]
	require.True(t, ok, "serving_default missing")
	in, out := sig.Inputs["inputs"], sig.Outputs["outputs"]
	require.NotEmpty(t, in.Name, "input 'inputs' missing: %v", sig.Inputs)
	require.NotEmpty(t, out.Name, "output 'outputs' missing: %v", sig.Outputs)

	for _, tc := range []struct{ size, want int }{{100, 60}, {172, 132}} {
		t.Run(fmt.Sprintf("size=%d", tc.size), func(t *testing.T) {
			// A bright disc on a dark background, like the training data.
			n := tc.size
			img := make([]float32, n*n)
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					di, dj := float64(i-n/2), float64(j-n/2)
					if di*di+dj*dj < float64(n*n)/16 {
						img[i*n+j] = 1
					}
				}
			}
			got, err := sess.Run(context.Background(),
				map[string]*tfops.Tensor{in.Name: tfops.MustFromSlice(img, 1, n, n, 1)},
				[]string{out.Name}, nil)
			require.NoError(t, err)
			require.Equal(t, []int{1, tc.want, tc.want, 2}, got[0].Shape())
			p := got[0].Data().([]float32)
			for k := 0; k < len(p); k += 2 {
				require.InDelta(t, 1, p[k]+p[k+1], 1e-5, "pixel %d: softmax pair %v, %v", k/2, p[k], p[k+1])
				require.True(t, p[k] >= 0 && p[k+1] >= 0, "pixel %d: negative probability", k/2)
			}
			// The same input again gives the same bits; a blank input gives
			// other probabilities (the output depends on the image).
			again, err := sess.Run(context.Background(),
				map[string]*tfops.Tensor{in.Name: tfops.MustFromSlice(img, 1, n, n, 1)}, []string{out.Name}, nil)
			require.NoError(t, err)
			assert.Equal(t, p, again[0].Data(), "rerun differs")
			blank, err := sess.Run(context.Background(),
				map[string]*tfops.Tensor{in.Name: tfops.MustFromSlice(make([]float32, n*n), 1, n, n, 1)}, []string{out.Name}, nil)
			require.NoError(t, err)
			assert.NotEqual(t, p, blank[0].Data(), "disc and blank images give the same output")
		})
	}
}
