package goengine

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine/internal/gemm"
	"github.com/tfseg/tfseg/tfops"
)

// bnCase is x → Conv2D → FusedBatchNormV3 [→ act], as Keras writes a
// Conv2D(use_bias=False) + BatchNormalization [+ Activation] block for
// inference.
type bnCase struct {
	act, padding, op string
	training         bool
	n, h, w, c, o    int
}

func (tc bnCase) graph(t testing.TB) *graphpb.GraphDef {
	t.Helper()
	rng := rand.New(rand.NewSource(int64(tc.h*31 + tc.o + len(tc.act))))
	val := func(lo, hi float64, dims ...int) *tfops.Tensor {
		v := make([]float32, tfops.NumElements(dims))
		for i := range v {
			v[i] = float32(lo + (hi-lo)*rng.Float64())
		}
		return tfops.MustFromSlice(v, dims...)
	}
	s := tfops.NewScope()
	out := []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.UnknownShape()}}
	x := tfops.Const(s.WithOpName("x"), val(-2, 2, tc.n, tc.h, tc.w, tc.c))
	f := tfops.Const(s.WithOpName("f"), val(-0.5, 0.5, 3, 3, tc.c, tc.o))
	conv := s.AddOp(tfops.OpSpec{Type: "Conv2D", Name: "conv", Inputs: []any{x, f}, Outputs: out,
		Attrs: map[string]any{"T": tfops.Float, "strides": []int{1, 1, 1, 1}, "padding": tc.padding}}).Output(0)
	op := tc.op
	if op == "" {
		op = "FusedBatchNormV3"
	}
	stats := []tfops.OutputInfo{out[0], out[0], out[0], out[0], out[0]}
	if op == "FusedBatchNormV3" {
		stats = append(stats, out[0])
	}
	attrs := map[string]any{"T": tfops.Float, "epsilon": float32(1e-3), "is_training": tc.training}
	if op != "FusedBatchNorm" {
		attrs["U"] = tfops.Float
	}
	ins := []any{conv, tfops.Const(s.WithOpName("scale"), val(0.5, 1.5, tc.o)), tfops.Const(s.WithOpName("offset"), val(-1, 1, tc.o)),
		tfops.Const(s.WithOpName("mean"), val(-1, 1, tc.o)), tfops.Const(s.WithOpName("variance"), val(0.1, 2, tc.o))}
	if tc.training {
		ins[3], ins[4] = tfops.Const(s.WithOpName("mean"), val(0, 0, 0)), tfops.Const(s.WithOpName("variance"), val(0, 0, 0))
	}
	bn := s.AddOp(tfops.OpSpec{Type: op, Name: "bn", Inputs: ins, Outputs: stats, Attrs: attrs})
	if tc.act != "" {
		a := map[string]any{"T": tfops.Float}
		if tc.act == "LeakyRelu" {
			a["alpha"] = float32(0.1)
		}
		s.AddOp(tfops.OpSpec{Type: tc.act, Name: "act", Inputs: []any{bn.Output(0)}, Outputs: out, Attrs: a})
	}
	gd, err := s.Finalize()
	require.NoError(t, err)
	return gd
}

func (tc bnCase) last() string {
	if tc.act != "" {
		return "act"
	}
	return "bn"
}

// TestFuseConvBatchNorm checks Conv2D → FusedBatchNorm{,V2,V3} [→
// activation] fused into one _FusedConv2D (fused_ops [FusedBatchNorm,
// act], as TensorFlow's remapper makes it) against the unfused graph, bit
// for bit, on every micro-kernel and 1 and 3 threads.
func TestFuseConvBatchNorm(t *testing.T) {
	for _, mk := range gemm.KernelNames() {
		for _, tc := range []bnCase{
			{act: "Relu", padding: "SAME", n: 2, h: 37, w: 29, c: 5, o: 20},
			{act: "", padding: "VALID", n: 1, h: 40, w: 33, c: 16, o: 32},
			{act: "Relu6", padding: "SAME", n: 3, h: 17, w: 19, c: 3, o: 7},
			{act: "LeakyRelu", padding: "SAME", n: 1, h: 21, w: 21, c: 8, o: 16, op: "FusedBatchNorm"},
			{act: "Elu", padding: "VALID", n: 2, h: 23, w: 30, c: 4, o: 9, op: "FusedBatchNormV2"},
		} {
			t.Run(fmt.Sprintf("kernel=%s/%s/%s/act=%s/%dx%dx%dx%d->%d", mk, tc.op, tc.padding, tc.act, tc.n, tc.h, tc.w, tc.c, tc.o), func(t *testing.T) {
				defer gemm.Use(mk)()
				gd := tc.graph(t)
				nodes, changed := fuseConvChains(gd.GetNode(), nil)
				require.True(t, changed)
				fused := nodes[slicesIndex(nodes, tc.last())]
				require.Equal(t, "_FusedConv2D", fused.GetOp())
				ops := []string{"FusedBatchNorm"}
				if tc.act != "" {
					ops = append(ops, tc.act)
				}
				var got []string
				for _, o := range fused.GetAttr()["fused_ops"].GetList().GetS() {
					got = append(got, string(o))
				}
				assert.Equal(t, ops, got)
				assert.Equal(t, int64(4), fused.GetAttr()["num_args"].GetI())
				assert.Equal(t, float32(1e-3), fused.GetAttr()["epsilon"].GetF())
				assert.Equal(t, []string{"x", "f", "scale", "offset", "mean", "variance"}, fused.GetInput())
				for _, threads := range []int{1, 3} {
					// The session's own rewrites off: the graph as written, and
					// as rewritten.
					want, err := runPair(t, gd, gd.GetNode(), threads, tc.last())
					require.NoError(t, err)
					gotT, err := runPair(t, gd, nodes, threads, tc.last())
					require.NoError(t, err)
					w, g := want[0].Float32s(), gotT[0].Float32s()
					require.Equal(t, want[0].Shape(), gotT[0].Shape())
					for e := range w {
						if math.Float32bits(w[e]) != math.Float32bits(g[e]) {
							t.Fatalf("threads %d element %d: fused %v, unfused %v", threads, e, g[e], w[e])
						}
					}
				}
			})
		}
	}
}

func slicesIndex(nodes []*nodepb.NodeDef, name string) int {
	for i, n := range nodes {
		if n.GetName() == name {
			return i
		}
	}
	return -1
}

// TestFuseConvBatchNormLeavesOthers checks the chains that must stay
// unfused: training mode, the batch statistics read, the convolution read
// elsewhere, NCHW.
func TestFuseConvBatchNormLeavesOthers(t *testing.T) {
	base := bnCase{act: "Relu", padding: "SAME", n: 1, h: 9, w: 9, c: 2, o: 3}
	t.Run("training", func(t *testing.T) {
		tc := base
		tc.training = true
		_, changed := fuseConvChains(tc.graph(t).GetNode(), nil)
		assert.False(t, changed)
	})
	for _, ref := range []string{"bn:1", "bn:batch_mean:0"} {
		t.Run("stats_read_"+ref, func(t *testing.T) {
			tc := base
			tc.act = ""
			nodes := append(tc.graph(t).GetNode(), &nodepb.NodeDef{Name: "other", Op: "Identity", Input: []string{ref}})
			_, changed := fuseConvChains(nodes, nil)
			assert.False(t, changed)
		})
	}
	t.Run("y_read_twice", func(t *testing.T) {
		nodes := append(base.graph(t).GetNode(), &nodepb.NodeDef{Name: "other", Op: "Identity", Input: []string{"bn:y:0"}})
		nodes, changed := fuseConvChains(nodes, nil)
		// Conv2D → FusedBatchNormV3 fuses (named bn); the Relu stays.
		assert.True(t, changed)
		assert.Equal(t, "_FusedConv2D", nodeOp(nodes, "bn"))
		assert.Equal(t, "Relu", nodeOp(nodes, "act"))
	})
	t.Run("conv_used_twice", func(t *testing.T) {
		nodes := append(base.graph(t).GetNode(), &nodepb.NodeDef{Name: "other", Op: "Identity", Input: []string{"conv"}})
		_, changed := fuseConvChains(nodes, nil)
		assert.False(t, changed)
	})
	t.Run("nchw", func(t *testing.T) {
		nodes := base.graph(t).GetNode()
		for _, n := range nodes {
			if n.GetName() == "bn" {
				n.Attr["data_format"] = &attrpb.AttrValue{Value: &attrpb.AttrValue_S{S: []byte("NCHW")}}
			}
		}
		_, changed := fuseConvChains(nodes, nil)
		assert.False(t, changed)
	})
}

// BenchmarkConvBatchNorm times a Keras Conv2D(use_bias=False) →
// BatchNormalization → ReLU block (3x3, 32 → 32 channels at 256x256) run
// as the one _FusedConv2D the session makes of it and as its three ops
// (Engine.Unfused), on 2 threads.
func BenchmarkConvBatchNorm(b *testing.B) {
	tc := bnCase{act: "Relu", padding: "SAME", n: 1, h: 256, w: 256, c: 32, o: 32}
	gd := tc.graph(b)
	for _, unfused := range []bool{false, true} {
		b.Run(fmt.Sprintf("unfused=%v", unfused), func(b *testing.B) {
			sess, err := Engine{Unfused: unfused}.NewSession(gd, engine.SessionOptions{Threads: 2})
			require.NoError(b, err)
			defer sess.Close()
			for b.Loop() {
				if _, err := sess.Run(context.Background(), nil, []string{"act"}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestFusedConv2DBatchNormErrors checks that a _FusedConv2D with
// [FusedBatchNorm] arguments that do not fit (a vector of the wrong
// length or dtype) fails naming the argument, as a SavedModel written by
// another tool could hold it.
func TestFusedConv2DBatchNormErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		bad  *tfops.Tensor
		want string
	}{
		{"short_variance", tfops.MustFromSlice([]float32{1, 1, 1}, 3), "variance must be a float32 vector of 4"},
		{"float64_variance", tfops.MustFromSlice([]float64{1, 1, 1, 1}, 4), "variance must be a float32 vector of 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tfops.NewScope()
			v4 := tfops.MustFromSlice([]float32{1, 1, 1, 1}, 4)
			ins := []any{tfops.Const(s.WithOpName("x"), tfops.MustFromSlice(make([]float32, 5*5*2), 1, 5, 5, 2)),
				tfops.Const(s.WithOpName("f"), tfops.MustFromSlice(make([]float32, 3*3*2*4), 3, 3, 2, 4)),
				tfops.Const(s.WithOpName("scale"), v4), tfops.Const(s.WithOpName("offset"), v4), tfops.Const(s.WithOpName("mean"), v4),
				tfops.Const(s.WithOpName("variance"), tc.bad)}
			s.AddOp(tfops.OpSpec{Type: "_FusedConv2D", Name: "op", Inputs: ins,
				Outputs: []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.UnknownShape()}},
				Attrs: map[string]any{"T": tfops.Float, "strides": []int{1, 1, 1, 1}, "padding": "SAME",
					"fused_ops": []string{"FusedBatchNorm", "Relu"}, "num_args": 4, "epsilon": float32(1e-3)}})
			gd, err := s.Finalize()
			require.NoError(t, err)
			_, err = runPair(t, gd, gd.GetNode(), 1, "op")
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, "_FusedConv2D")
		})
	}
}
