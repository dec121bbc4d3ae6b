package goengine

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	fpb "github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine/internal/gemm"
	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
	"github.com/tfseg/tfseg/tfops"
)

// convChain builds x → head → BiasAdd [→ act] (act "" for none) in dtype
// dt, head being Conv2D, Conv2DBackpropInput (2×2, stride 2, output tiled
// exactly) or Conv2DBackpropInput_odd (an odd output size, whose last row
// and column no product reaches). With blocked, an Identity between the
// convolution and the BiasAdd keeps the chain from being fused (the
// reference, whether or not sessions fuse).
func convChain(t *testing.T, dt tfops.DType, head, act, biasFormat string, blocked bool) *graphpb.GraphDef {
	t.Helper()
	rng := rand.New(rand.NewSource(int64(len(act)+len(head)) + 31))
	val := func(dims ...int) *tfops.Tensor {
		v := make([]float64, tfops.NumElements(dims))
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		if dt == tfops.Float {
			f := make([]float32, len(v))
			for i, x := range v {
				f[i] = float32(x)
			}
			return tfops.MustFromSlice(f, dims...)
		}
		return tfops.MustFromSlice(v, dims...)
	}
	s := tfops.NewScope()
	out := []tfops.OutputInfo{{DType: dt, Shape: tfops.UnknownShape()}}
	b := tfops.Const(s.WithOpName("b"), val(20))
	var conv *tfops.Operation
	if head == "Conv2D" {
		x := tfops.Const(s.WithOpName("x"), val(2, 33, 31, 5))
		f := tfops.Const(s.WithOpName("f"), val(3, 3, 5, 20))
		conv = s.AddOp(tfops.OpSpec{Type: "Conv2D", Name: "conv", Inputs: []any{x, f}, Outputs: out,
			Attrs: map[string]any{"T": dt, "strides": []int{1, 1, 2, 1}, "padding": "SAME"}})
	} else {
		h := int32(2 * 17)
		if head == "Conv2DBackpropInput_odd" {
			h++
		}
		sizes := tfops.Const(s.WithOpName("sizes"), tfops.MustFromSlice([]int32{2, h, h, 20}, 4))
		dy := tfops.Const(s.WithOpName("x"), val(2, 17, 17, 6))
		f := tfops.Const(s.WithOpName("f"), val(2, 2, 20, 6))
		conv = s.AddOp(tfops.OpSpec{Type: "Conv2DBackpropInput", Name: "conv", Inputs: []any{sizes, f, dy}, Outputs: out,
			Attrs: map[string]any{"T": dt, "strides": []int{1, 2, 2, 1}, "padding": "VALID"}})
	}
	battrs := map[string]any{"T": dt}
	if biasFormat != "" {
		battrs["data_format"] = biasFormat
	}
	convOut := conv.Output(0)
	if blocked {
		convOut = tfops.Identity(s.WithOpName("identity"), convOut)
	}
	ba := s.AddOp(tfops.OpSpec{Type: "BiasAdd", Name: "bias", Inputs: []any{convOut, b}, Outputs: out, Attrs: battrs})
	if act != "" {
		attrs := map[string]any{"T": dt}
		if act == "LeakyRelu" {
			attrs["alpha"] = float32(0.3)
		}
		s.AddOp(tfops.OpSpec{Type: act, Name: "act", Inputs: []any{ba.Output(0)}, Outputs: out, Attrs: attrs})
	}
	gd, err := s.Finalize()
	require.NoError(t, err)
	return gd
}

// runGraph runs gd on the Go engine and returns the fetched tensors.
func runGraph(t *testing.T, gd *graphpb.GraphDef, fetches ...string) []*tfops.Tensor {
	t.Helper()
	sess, err := Engine{}.NewSession(gd, engine.SessionOptions{})
	require.NoError(t, err)
	defer sess.Close()
	out, err := sess.Run(context.Background(), nil, fetches, nil)
	require.NoError(t, err)
	return out
}

func withNodes(gd *graphpb.GraphDef, nodes []*nodepb.NodeDef) *graphpb.GraphDef {
	return &graphpb.GraphDef{Node: nodes, Library: gd.GetLibrary(), Versions: gd.GetVersions()}
}

func nodeOp(nodes []*nodepb.NodeDef, name string) string {
	for _, n := range nodes {
		if n.GetName() == name {
			return n.GetOp()
		}
	}
	return ""
}

// TestFuseConvChainsKeepsResults fuses convolution → BiasAdd → activation
// and checks that the fused graph gives the unfused graph's bits, on every
// micro-kernel, and that the intermediate nodes can still be fetched.
func TestFuseConvChainsKeepsResults(t *testing.T) {
	for _, mk := range gemm.KernelNames() {
		for _, head := range []string{"Conv2D", "Conv2DBackpropInput", "Conv2DBackpropInput_odd"} {
			for _, dt := range []tfops.DType{tfops.Float, tfops.Double} {
				for _, act := range []string{"", "Relu", "Relu6", "Elu", "LeakyRelu"} {
					t.Run(fmt.Sprintf("kernel=%s/%s/%v/act=%s", mk, head, dt, act), func(t *testing.T) {
						checkFusedChain(t, mk, head, dt, act)
					})
				}
			}
		}
	}
}

// checkFusedChain compares the fused chain with a reference graph the
// rewrite leaves alone.
func checkFusedChain(t *testing.T, mk string, head string, dt tfops.DType, act string) {
	defer gemm.Use(mk)()
	gd := convChain(t, dt, head, act, "", false)
	ref := convChain(t, dt, head, act, "", true)
	_, blocked := fuseConvChains(ref.GetNode(), nil)
	require.False(t, blocked, "the Identity blocks the fusion")
	last := "bias"
	if act != "" {
		last = "act"
	}
	nodes, changed := fuseConvChains(gd.GetNode(), nil)
	require.True(t, changed)
	assert.Equal(t, convFusedHeads[nodeOp(gd.GetNode(), "conv")].op, nodeOp(nodes, last))
	assert.Equal(t, "BiasAdd", nodeOp(gd.GetNode(), "bias"), "the input graph is not modified")
	want := runGraph(t, ref, last, "bias")
	got := runGraph(t, withNodes(gd, nodes), last, "bias")
	for i := range want {
		w, g := nnFloat64s(want[i]), nnFloat64s(got[i])
		require.Equal(t, len(w), len(g))
		for e := range w {
			if w[e] != g[e] && !(math.IsNaN(w[e]) && math.IsNaN(g[e])) {
				t.Fatalf("fetch %d element %d: fused %v, unfused %v", i, e, g[e], w[e])
			}
		}
	}
}

func nnFloat64s(t *tfops.Tensor) []float64 {
	if t.DType() == tfops.Double {
		return t.Float64s()
	}
	f := t.Float32s()
	out := make([]float64, len(f))
	for i, v := range f {
		out[i] = float64(v)
	}
	return out
}

// TestFuseConvChainsLeavesOthers checks the chains that must stay unfused.
func TestFuseConvChainsLeavesOthers(t *testing.T) {
	t.Run("nchw_bias", func(t *testing.T) {
		_, changed := fuseConvChains(convChain(t, tfops.Float, "Conv2D", "Relu", "NCHW", false).GetNode(), nil)
		assert.False(t, changed)
	})
	t.Run("conv_used_twice", func(t *testing.T) {
		nodes := convChain(t, tfops.Float, "Conv2D", "Relu", "", false).GetNode()
		nodes = append(nodes, &nodepb.NodeDef{Name: "other", Op: "Identity", Input: []string{"conv"}})
		_, changed := fuseConvChains(nodes, nil)
		assert.False(t, changed)
	})
	t.Run("bias_returned", func(t *testing.T) {
		nodes, changed := fuseConvChains(convChain(t, tfops.Float, "Conv2D", "Relu", "", false).GetNode(), []string{"bias:output:0"})
		// The BiasAdd is used twice, so only Conv2D → BiasAdd could fuse,
		// and it does: the fused node takes the BiasAdd's name.
		assert.True(t, changed)
		assert.Equal(t, "_FusedConv2D", nodeOp(nodes, "bias"))
		assert.Equal(t, "Relu", nodeOp(nodes, "act"))
	})
	t.Run("control_use", func(t *testing.T) {
		nodes := convChain(t, tfops.Float, "Conv2D", "", "", false).GetNode()
		nodes = append(nodes, &nodepb.NodeDef{Name: "after", Op: "NoOp", Input: []string{"^conv"}})
		_, changed := fuseConvChains(nodes, nil)
		assert.False(t, changed)
	})
}

// TestFuseConvFunction rewrites a function body written in FunctionDef
// syntax ("node:arg:index") and keeps the input FunctionDef intact.
func TestFuseConvFunction(t *testing.T) {
	fd := &fpb.FunctionDef{
		NodeDef: []*nodepb.NodeDef{
			{Name: "conv", Op: "Conv2D", Input: []string{"x", "f", "^init"}},
			{Name: "bias", Op: "BiasAdd", Input: []string{"conv:output:0", "b"}},
			{Name: "act", Op: "Relu", Input: []string{"bias:output:0"}},
			{Name: "init", Op: "NoOp"},
		},
		Ret: map[string]string{"y": "act:activations:0"},
	}
	for _, n := range convChain(t, tfops.Float, "Conv2D", "", "", false).GetNode() {
		if n.GetName() == "conv" {
			fd.NodeDef[0].Attr = n.GetAttr()
		}
	}
	got := fuseConvFunction(fd)
	require.NotSame(t, fd, got)
	assert.Equal(t, "Relu", fd.NodeDef[2].GetOp())
	fused := got.NodeDef[2]
	assert.Equal(t, "_FusedConv2D", fused.GetOp())
	assert.Equal(t, []string{"x", "f", "b", "^init"}, fused.GetInput())
	assert.Equal(t, [][]byte{[]byte("BiasAdd"), []byte("Relu")}, fused.GetAttr()["fused_ops"].GetList().GetS())

	fd.Ret["z"] = "conv:output:0"
	assert.Same(t, fd, fuseConvFunction(fd), "a returned Conv2D output blocks the fusion")
}

func TestFusedConv2DErrors(t *testing.T) {
	x := tfops.MustFromSlice(make([]float32, 1*5*5*2), 1, 5, 5, 2)
	f := tfops.MustFromSlice(make([]float32, 3*3*2*4), 3, 3, 2, 4)
	for _, tc := range []struct {
		name  string
		ops   []string
		bias  *tfops.Tensor
		extra bool
		want  string
	}{
		{"batchnorm_args", []string{"FusedBatchNorm"}, tfops.MustFromSlice(make([]float32, 4), 4), false, "expects 6 inputs"},
		{"unknown_op", []string{"Mul"}, tfops.MustFromSlice(make([]float32, 4), 4), false, "not supported"},
		{"bias_size", []string{"BiasAdd"}, tfops.MustFromSlice(make([]float32, 3), 3), false, "vector of 4"},
		{"bias_dtype", []string{"BiasAdd", "Relu"}, tfops.MustFromSlice(make([]float64, 4), 4), false, "float32 vector"},
		{"args", []string{"BiasAdd"}, tfops.MustFromSlice(make([]float32, 4), 4), true, "expects 3 inputs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tfops.NewScope()
			ins := []any{tfops.Const(s.WithOpName("x"), x), tfops.Const(s.WithOpName("f"), f), tfops.Const(s.WithOpName("b"), tc.bias)}
			if tc.extra {
				ins = append(ins, tfops.Const(s.WithOpName("e"), tc.bias))
			}
			s.AddOp(tfops.OpSpec{Type: "_FusedConv2D", Name: "op", Inputs: ins,
				Outputs: []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.UnknownShape()}},
				Attrs:   map[string]any{"T": tfops.Float, "strides": []int{1, 1, 1, 1}, "padding": "SAME", "fused_ops": tc.ops, "num_args": len(ins) - 2}})
			gd, err := s.Finalize()
			require.NoError(t, err)
			sess, err := Engine{}.NewSession(gd, engine.SessionOptions{})
			require.NoError(t, err)
			defer sess.Close()
			_, err = sess.Run(context.Background(), nil, []string{"op"}, nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, engine.ErrKernel)
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, "_FusedConv2D")
		})
	}
}

// TestBiasAddFloat32 checks the blocked float32 BiasAdd (vector kernels, and
// the pure-Go ones) against a plain loop, on sizes that end mid-block.
func TestBiasAddFloat32(t *testing.T) {
	rng := rand.New(rand.NewSource(41))
	for _, generic := range []bool{false, true} {
		for _, tc := range []struct{ rows, nc int }{{1, 1}, {7, 3}, {2 * 33 * 31, 20}, {5000, 16}, {3, 5000}} {
			t.Run(fmt.Sprintf("generic=%v/%dx%d", generic, tc.rows, tc.nc), func(t *testing.T) {
				if generic {
					defer vec.UseGeneric()()
				}
				x, b := normals32(rng, tc.rows*tc.nc), normals32(rng, tc.nc)
				out := make([]float32, len(x))
				biasAddFloat32(x, b, out, 2)
				for i, v := range x {
					if want := v + b[i%tc.nc]; out[i] != want {
						t.Fatalf("element %d: %v, want %v", i, out[i], want)
					}
				}
			})
		}
	}
}

// normals32 returns n standard normal float32 values from rng.
func normals32(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}
