package goengine

import (
	"context"
	"fmt"
	"maps"
	"math/rand"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	typespb "github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine/internal/gemm"
	"github.com/tfseg/tfseg/tfops"
)

// upconvCase is the decoder step of a Keras U-Net: a 2x2 stride-2
// Conv2DTranspose (Conv2DBackpropInput → BiasAdd [→ Relu]) of dy
// (n×dh×dw×co) to n×2dh×2dw×cu, concatenated with a crop of the skip
// tensor (n×(2dh+4)×(2dw+6)×ca), then a k×k VALID Conv2D → BiasAdd → Relu.
// A Shape of the upsampled tensor is fetched too (Keras' crop computes its
// offsets from it).
type upconvCase struct {
	n, dh, dw, co, cu, ca, k int
	uk                       int    // the transposed convolution's kernel size (stride 2); 0 for 2
	act                      string // the transposed convolution's activation: "Relu" or ""
	upFirst                  bool   // the upsampled tensor comes first in the concatenation
	badSizes                 bool   // input_sizes gives one channel too many for the filter
}

func (tc upconvCase) graph(t *testing.T) *graphpb.GraphDef {
	t.Helper()
	rng := rand.New(rand.NewSource(int64(tc.n*1000 + tc.dw*10 + tc.k)))
	s := tfops.NewScope()
	out := []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.UnknownShape()}}
	i32 := func(name string, v ...int32) tfops.Output {
		return tfops.Const(s.WithOpName(name), tfops.MustFromSlice(v, len(v)))
	}
	f32 := func(name string, dims ...int) tfops.Output {
		n := 1
		for _, d := range dims {
			n *= d
		}
		return tfops.Const(s.WithOpName(name), tfops.MustFromSlice(normals32(rng, n), dims...))
	}
	uk := max(tc.uk, 2)
	uh, uw := tc.upH(), tc.upW()
	dy := f32("dy", tc.n, tc.dh, tc.dw, tc.co)
	up := s.AddOp(tfops.OpSpec{Type: "Conv2DBackpropInput", Name: "up", Outputs: out,
		Inputs: []any{i32("sizes", int32(tc.n), int32(uh), int32(uw), int32(tc.cu+btoi(tc.badSizes))), f32("uf", uk, uk, tc.cu, tc.co), dy},
		Attrs:  map[string]any{"T": tfops.Float, "strides": []int{1, 2, 2, 1}, "padding": "VALID"}}).Output(0)
	up = s.AddOp(tfops.OpSpec{Type: "BiasAdd", Name: "up_bias", Inputs: []any{up, f32("ub", tc.cu)}, Outputs: out,
		Attrs: map[string]any{"T": tfops.Float}}).Output(0)
	if tc.act != "" {
		up = s.AddOp(tfops.OpSpec{Type: tc.act, Name: "up_act", Inputs: []any{up}, Outputs: out, Attrs: map[string]any{"T": tfops.Float}}).Output(0)
	}
	s.AddOp(tfops.OpSpec{Type: "Shape", Name: "up_shape", Inputs: []any{up}, Outputs: []tfops.OutputInfo{{DType: tfops.Int32, Shape: tfops.UnknownShape()}},
		Attrs: map[string]any{"T": tfops.Float, "out_type": tfops.Int32}})
	skip := f32("skip", tc.n, uh+4, uw+6, tc.ca)
	crop := s.AddOp(tfops.OpSpec{Type: "StridedSlice", Name: "crop", Outputs: out,
		Inputs: []any{skip, i32("begin", 0, 2, 3, 0), i32("end", 0, 2+int32(uh), 3+int32(uw), 0), i32("strides", 1, 1, 1, 1)},
		Attrs:  map[string]any{"T": tfops.Float, "Index": tfops.Int32, "begin_mask": 9, "end_mask": 9}}).Output(0)
	values := []any{crop, up}
	if tc.upFirst {
		values = []any{up, crop}
	}
	values = append(values, tfops.Const(s.WithOpName("axis"), tfops.MustFromSlice([]int32{-1}, []int{}...)))
	cc := s.AddOp(tfops.OpSpec{Type: "ConcatV2", Name: "concat", Inputs: values, Outputs: out,
		Attrs: map[string]any{"T": tfops.Float, "N": 2, "Tidx": tfops.Int32}})
	conv := s.AddOp(tfops.OpSpec{Type: "Conv2D", Name: "conv", Inputs: []any{cc.Output(0), f32("f", tc.k, tc.k, tc.ca+tc.cu, 16)}, Outputs: out,
		Attrs: map[string]any{"T": tfops.Float, "strides": []int{1, 1, 1, 1}, "padding": "VALID"}})
	ba := s.AddOp(tfops.OpSpec{Type: "BiasAdd", Name: "bias", Inputs: []any{conv.Output(0), f32("b", 16)}, Outputs: out,
		Attrs: map[string]any{"T": tfops.Float}})
	s.AddOp(tfops.OpSpec{Type: "Relu", Name: "act", Inputs: []any{ba.Output(0)}, Outputs: out, Attrs: map[string]any{"T": tfops.Float}})
	gd, err := s.Finalize()
	require.NoError(t, err)
	return gd
}

// upH and upW are the upsampled tensor's height and width.
func (tc upconvCase) upH() int { return 2*(tc.dh-1) + max(tc.uk, 2) }
func (tc upconvCase) upW() int { return 2*(tc.dw-1) + max(tc.uk, 2) }

// upName is the node the concatenation reads the upsampled tensor from.
func (tc upconvCase) upName() string {
	if tc.act != "" {
		return "up_act"
	}
	return "up_bias"
}

// TestFoldConcatUpconv checks that a transposed convolution read only by a
// folded concatenation is computed band by band inside it (its node gone
// from the folded node's inputs, its Shape an Identity of input_sizes),
// with the bits of the same fold reading the transposed convolution's
// output from memory (a second use of that output keeps it a node of its
// own), on every GEMM micro-kernel; and that the shape fetched is the
// upsampled tensor's.
func TestFoldConcatUpconv(t *testing.T) {
	cases := []upconvCase{
		{n: 1, dh: 11, dw: 15, co: 24, cu: 16, ca: 8, k: 3, act: "Relu"},
		{n: 2, dh: 9, dw: 17, co: 7, cu: 20, ca: 5, k: 3, act: "", upFirst: true},
		{n: 2, dh: 6, dw: 14, co: 32, cu: 16, ca: 16, k: 1, act: "Relu"},
		{n: 1, dh: 5, dw: 20, co: 16, cu: 3, ca: 4, k: 2, act: "Relu", upFirst: true},
		// Rows narrower than a micro-kernel tile: each band computes more
		// rows than it reads; an image smaller than a tile.
		{n: 2, dh: 8, dw: 9, co: 16, cu: 16, ca: 8, k: 3, act: "Relu"},
		{n: 3, dh: 4, dw: 3, co: 5, cu: 17, ca: 2, k: 1, act: "Relu"},
		// A 3x3 stride-2 filter overlaps: no pixel shuffle, the
		// concatenation reads it computed in full.
		{n: 2, dh: 7, dw: 16, co: 16, cu: 16, ca: 8, k: 3, act: "Relu", uk: 3},
	}
	for _, mk := range gemm.KernelNames() {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("kernel=%s/%+v", mk, tc), func(t *testing.T) {
				defer gemm.Use(mk)()
				gd := tc.graph(t)
				nodes, changed := fuseConvChains(gd.GetNode(), nil)
				require.True(t, changed)
				fold := nodes[slices.IndexFunc(nodes, func(n *nodepb.NodeDef) bool { return n.GetName() == "act" })]
				require.Equal(t, "_FusedConcatConv2D", fold.GetOp())
				assert.Contains(t, fold.GetInput(), "dy", "the transposed convolution is computed inside the fold")
				assert.NotContains(t, fold.GetInput(), tc.upName())
				assert.Equal(t, "Identity", nodeOp(nodes, "up_shape"))

				// The reference: the same fold, the upsampled tensor a
				// node of its own (also returned, so used twice).
				ref, _ := fuseConvChains(gd.GetNode(), []string{tc.upName()})
				rfold := ref[slices.IndexFunc(ref, func(n *nodepb.NodeDef) bool { return n.GetName() == "act" })]
				require.Equal(t, "_FusedConcatConv2D", rfold.GetOp())
				require.Contains(t, rfold.GetInput(), tc.upName())

				got := runGraph(t, withNodes(gd, nodes), "act", "up_shape")
				want := runGraph(t, withNodes(gd, ref), "act", tc.upName())
				require.Equal(t, want[0].Shape(), got[0].Shape())
				assert.Equal(t, want[0].Float32s(), got[0].Float32s(), "same bits")
				assert.Equal(t, []int32{int32(tc.n), int32(tc.upH()), int32(tc.upW()), int32(tc.cu)}, got[1].Int32s())
				assert.Equal(t, want[1].Shape(), []int{tc.n, tc.upH(), tc.upW(), tc.cu})
			})
		}
	}
}

// TestFoldConcatUpconvRecyclesInputs checks that the folded node does not
// count as one that keeps its inputs (the computed part's attrs are plain
// attrs under a prefix, not a func attr): the transposed convolution's
// input, which it reads, goes
// back to the buffer pool after it (when it was kept, the U-Net fixture's
// runs allocated 67 MB more each and took 10% longer).
func TestFoldConcatUpconvRecyclesInputs(t *testing.T) {
	tc := upconvCase{n: 1, dh: 6, dw: 15, co: 8, cu: 16, ca: 8, k: 3, act: "Relu"}
	nodes, _ := fuseConvChains(tc.graph(t).GetNode(), nil)
	g, err := compileGraph(nodes, engine.Limits{}.WithDefaults())
	require.NoError(t, err)
	fold := g.nodes[g.byName["act"]]
	require.NotNil(t, fold.def.GetAttr()[partAttrPrefix(1)+"strides"], "the transposed convolution's attrs")
	assert.False(t, fold.retains)
	call := &nodepb.NodeDef{Name: "call", Op: "PartitionedCall", Attr: map[string]*attrpb.AttrValue{
		"f": {Value: &attrpb.AttrValue_Func{Func: &attrpb.NameAttrList{Name: "fn"}}}}}
	assert.True(t, retainsInputs(&node{def: call, op: call.GetOp()}), "a function call still keeps its inputs")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestFoldConcatUpconvBadSizes checks that an input_sizes that does not
// match the transposed convolution's filter fails the run with
// Conv2DBackpropInput's error, as the unfolded graph does, naming the
// transposed convolution's node.
func TestFoldConcatUpconvBadSizes(t *testing.T) {
	tc := upconvCase{n: 1, dh: 6, dw: 15, co: 8, cu: 16, ca: 8, k: 3, act: "Relu", badSizes: true}
	gd := tc.graph(t)
	nodes, _ := fuseConvChains(gd.GetNode(), nil)
	require.Contains(t, nodeNamed(nodes, "act").GetInput(), "dy", "folded")
	for _, unfused := range []bool{false, true} {
		sess, err := Engine{Unfused: unfused}.NewSession(gd, engine.SessionOptions{})
		require.NoError(t, err)
		_, err = sess.Run(context.Background(), nil, []string{"act"}, nil)
		sess.Close()
		require.Error(t, err, "unfused=%v", unfused)
		assert.Contains(t, err.Error(), "input_sizes depth 17 does not match filter in-depth 16", "unfused=%v", unfused)
		if !unfused {
			assert.Contains(t, err.Error(), `transposed convolution "up_act"`, "the error names the node the fold computes")
		}
	}
}

// TestFoldConcatUpconvGuards checks the transposed convolutions that are
// not computed inside the fold, and a bad input_sizes.
func TestFoldConcatUpconvGuards(t *testing.T) {
	tc := upconvCase{n: 1, dh: 6, dw: 15, co: 8, cu: 16, ca: 8, k: 3, act: "Relu"}
	t.Run("used_twice", func(t *testing.T) {
		gd := tc.graph(t)
		nodes := append(gd.GetNode(), &nodepb.NodeDef{Name: "other", Op: "Identity", Input: []string{"up_act"}})
		nodes, _ = fuseConvChains(nodes, nil)
		assert.Contains(t, nodes[slices.IndexFunc(nodes, func(n *nodepb.NodeDef) bool { return n.GetName() == "act" })].GetInput(), "up_act")
	})
	t.Run("elu", func(t *testing.T) {
		// The GEMM applies only a bias and a ReLU.
		tc := tc
		tc.act = "Elu"
		nodes, _ := fuseConvChains(tc.graph(t).GetNode(), nil)
		assert.Contains(t, nodes[slices.IndexFunc(nodes, func(n *nodepb.NodeDef) bool { return n.GetName() == "act" })].GetInput(), "up_act")
		assert.Equal(t, "_FusedConv2DBackpropInput", nodeOp(nodes, "up_act"))
	})
	t.Run("shape_int64", func(t *testing.T) {
		// Only an int32 Shape is input_sizes itself.
		gd := tc.graph(t)
		nodes := slices.Clone(gd.GetNode())
		for i, n := range nodes {
			if n.GetName() == "up_shape" {
				c := &nodepb.NodeDef{Name: n.GetName(), Op: n.GetOp(), Input: n.GetInput(), Attr: maps.Clone(n.GetAttr())}
				c.Attr["out_type"] = &attrpb.AttrValue{Value: &attrpb.AttrValue_Type{Type: typespb.DataType_DT_INT64}}
				nodes[i] = c
			}
		}
		out, _ := fuseConvChains(nodes, nil)
		assert.Equal(t, "Shape", nodeOp(out, "up_shape"))
		assert.Contains(t, out[slices.IndexFunc(out, func(n *nodepb.NodeDef) bool { return n.GetName() == "act" })].GetInput(), "up_act")
	})
}
