package goengine

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine/internal/gemm"
	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
	"github.com/tfseg/tfseg/tfops"
)

// convPairCase is a graph x → Conv2D A → BiasAdd [→ actA] → Conv2D B →
// BiasAdd [→ actB] [→ Softmax] for the pair fusion tests; every node
// VALID with unit strides.
type convPairCase struct {
	n, h, w, c   int // x
	ka, kb       int // A's and B's kernel sizes (square)
	oa, ob       int // output channels
	groups       int // A's filter has c/groups input channels (> 1: a grouped convolution)
	actA, actB   string
	softmax      bool
	seed         int64
	badBiasB     bool // B's bias has one value too many
	extraUseOfA  bool // an Identity also reads A's output
	extraUseOfB  bool // an Identity also reads B's output
	denormLogits bool // B's filter is scaled to make denormal logits, its bias 0
	pool         int  // > 0: a VALID pool×pool max-pool of stride pool ("pool") reads B's output, and an Identity ("other_b") too
}

// last is the name of the chain's last node.
func (tc convPairCase) last() string {
	switch {
	case tc.softmax:
		return "sm"
	case tc.actB != "":
		return "act_b"
	}
	return "bias_b"
}

// outA is the name of the node giving A's output.
func (tc convPairCase) outA() string {
	if tc.actA != "" {
		return "act_a"
	}
	return "bias_a"
}

func (tc convPairCase) graph(t *testing.T) *graphpb.GraphDef {
	t.Helper()
	rng := rand.New(rand.NewSource(tc.seed))
	s := tfops.NewScope()
	out := []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.UnknownShape()}}
	groups := max(tc.groups, 1)
	x := tfops.Const(s.WithOpName("x"), tfops.MustFromSlice(normals32(rng, tc.n*tc.h*tc.w*tc.c), tc.n, tc.h, tc.w, tc.c))
	layer := func(name string, in tfops.Output, k, cin, o int, act string, bias []float32) tfops.Output {
		fv := normals32(rng, k*k*cin*o)
		if name == "b" && tc.denormLogits {
			for i := range fv {
				fv[i] *= 0x1p-140 // products and sums below 2⁻¹²⁶: denormal logits
			}
		}
		f := tfops.Const(s.WithOpName("f_"+name), tfops.MustFromSlice(fv, k, k, cin, o))
		conv := s.AddOp(tfops.OpSpec{Type: "Conv2D", Name: "conv_" + name, Inputs: []any{in, f}, Outputs: out,
			Attrs: map[string]any{"T": tfops.Float, "strides": []int{1, 1, 1, 1}, "padding": "VALID"}})
		if bias == nil {
			bias = normals32(rng, o)
		}
		bv := tfops.Const(s.WithOpName("b_"+name), tfops.MustFromSlice(bias, len(bias)))
		y := s.AddOp(tfops.OpSpec{Type: "BiasAdd", Name: "bias_" + name, Inputs: []any{conv.Output(0), bv}, Outputs: out,
			Attrs: map[string]any{"T": tfops.Float}}).Output(0)
		if act != "" {
			y = s.AddOp(tfops.OpSpec{Type: act, Name: "act_" + name, Inputs: []any{y}, Outputs: out, Attrs: map[string]any{"T": tfops.Float}}).Output(0)
		}
		return y
	}
	a := layer("a", x, tc.ka, tc.c/groups, tc.oa, tc.actA, nil)
	var biasB []float32
	switch {
	case tc.badBiasB:
		biasB = normals32(rng, tc.ob+1)
	case tc.denormLogits:
		biasB = make([]float32, tc.ob)
	}
	b := layer("b", a, tc.kb, tc.oa, tc.ob, tc.actB, biasB)
	if tc.softmax {
		s.AddOp(tfops.OpSpec{Type: "Softmax", Name: "sm", Inputs: []any{b}, Outputs: out, Attrs: map[string]any{"T": tfops.Float}})
	}
	if tc.extraUseOfA {
		tfops.Identity(s.WithOpName("other_a"), a)
	}
	if tc.extraUseOfB || tc.pool > 0 {
		tfops.Identity(s.WithOpName("other_b"), b)
	}
	if tc.pool > 0 {
		p := []int{1, tc.pool, tc.pool, 1}
		s.AddOp(tfops.OpSpec{Type: "MaxPool", Name: "pool", Inputs: []any{b}, Outputs: out,
			Attrs: map[string]any{"T": tfops.Float, "ksize": p, "strides": p, "padding": "VALID"}})
	}
	gd, err := s.Finalize()
	require.NoError(t, err)
	return gd
}

// runPair runs nodes (of gd) with the session's own rewrites off and
// threads goroutines, fetching fetches.
func runPair(t *testing.T, gd *graphpb.GraphDef, nodes []*nodepb.NodeDef, threads int, fetches ...string) ([]*tfops.Tensor, error) {
	t.Helper()
	sess, err := Engine{Unfused: true}.NewSession(withNodes(gd, nodes), engine.SessionOptions{Threads: threads})
	require.NoError(t, err)
	defer sess.Close()
	return sess.Run(context.Background(), nil, fetches, nil)
}

// checkConvPair rewrites tc's graph with and without the pair fusion and
// checks that the fused node gives the unfused nodes' bits (also when the
// intermediates are fetched with it).
func checkConvPair(t *testing.T, tc convPairCase, wantOp string) {
	t.Helper()
	gd := tc.graph(t)
	nodes, changed := fuseConvChains(gd.GetNode(), nil)
	require.True(t, changed)
	require.Equal(t, wantOp, nodeOp(nodes, tc.last()))
	if wantOp == "_FusedConvPair2D" {
		// The executor recycles the inputs of a node that does not look
		// like a function call (no func attrs).
		pair := nodes[slices.IndexFunc(nodes, func(n *nodepb.NodeDef) bool { return n.GetName() == tc.last() })]
		opd, _ := LookupOp(pair.GetOp())
		require.False(t, retainsInputs(&node{def: pair, opd: opd}), "the fused node keeps its inputs from the pool")
	}
	chains, _, _ := fuseChains(gd.GetNode(), nil)
	require.NotEqual(t, "_FusedConvPair2D", nodeOp(chains, tc.last()))
	for _, threads := range []int{1, 3} {
		fetchSets := [][]string{{tc.last()}, {tc.last(), tc.outA(), "bias_b"}}
		if tc.pool > 0 {
			fetchSets = [][]string{{"pool", "other_b"}, {"pool"}, {"pool", tc.outA()}}
		}
		for _, fetches := range fetchSets {
			want, err := runPair(t, gd, chains, threads, fetches...)
			require.NoError(t, err)
			got, err := runPair(t, gd, nodes, threads, fetches...)
			require.NoError(t, err)
			for i := range want {
				require.Equal(t, want[i].Shape(), got[i].Shape(), "fetch %s", fetches[i])
				w, g := want[i].Float32s(), got[i].Float32s()
				for e := range w {
					if math.Float32bits(w[e]) != math.Float32bits(g[e]) {
						t.Fatalf("threads=%d fetch %s element %d of %v: fused %v, unfused %v", threads, fetches[i], e, got[i].Shape(), g[e], w[e])
					}
				}
			}
		}
	}
}

// TestFuseConvPair checks the fused pair against the unfused convolutions
// bit for bit, on random shapes (odd widths and heights, heights not a
// multiple of the band, batches), B's kernel 1x1 or 3x3, with and without
// softmax and activations, on every GEMM micro-kernel and on the pure-Go
// vector kernels.
func TestFuseConvPair(t *testing.T) {
	rng := rand.New(rand.NewSource(16))
	var cases []convPairCase
	for i := 0; i < 8; i++ {
		tc := convPairCase{
			n: 1 + rng.Intn(3), c: 1 + rng.Intn(9), ka: []int{1, 3}[rng.Intn(2)], kb: []int{1, 3}[i%2],
			oa: 1 + rng.Intn(20), ob: 1 + rng.Intn(5), seed: int64(i),
			actA: []string{"Relu", "", "Elu"}[i%3], actB: []string{"", "Relu", "Relu6", "LeakyRelu"}[i%4], softmax: i%4 < 2,
		}
		if i == 0 {
			tc.c, tc.oa, tc.ob, tc.ka, tc.kb, tc.actA, tc.actB, tc.softmax = 16, 16, 2, 3, 1, "Relu", "Relu", true // the U-Net's head
		}
		// Widths from 31 (past the widest GEMM tile, 28 rows) to 69.
		tc.w, tc.h = 31+2*rng.Intn(20), tc.ka+tc.kb-1+rng.Intn(3*convPairBandRows)
		if tc.h%convPairBandRows == 0 {
			tc.h++
		}
		cases = append(cases, tc)
	}
	// Logits that are denormal (read as zero by the softmax).
	cases = append(cases, convPairCase{n: 2, h: 13, w: 33, c: 3, ka: 3, kb: 1, oa: 8, ob: 2, actB: "", softmax: true, denormLogits: true, seed: 99})
	for _, mk := range gemm.KernelNames() {
		for _, generic := range []bool{false, true} {
			for _, tc := range cases {
				t.Run(fmt.Sprintf("kernel=%s/generic=%v/%+v", mk, generic, tc), func(t *testing.T) {
					defer gemm.Use(mk)()
					if generic {
						defer vec.UseGeneric()()
					}
					checkConvPair(t, tc, "_FusedConvPair2D")
				})
			}
		}
	}
}

// TestFuseConvPairPool checks a pair whose second convolution a max-pool
// reads (as the U-Net's first block): the pool fused into the pair
// (fuseConvPools) gives the unfused nodes' bits, computed in bands or,
// when the pair falls back (a deep first convolution, narrow rows, a
// window that does not divide the band), by the unfused convolution and
// the _FusedConv2DMaxPool kernel.
func TestFuseConvPairPool(t *testing.T) {
	cases := []convPairCase{
		{n: 1, h: 23, w: 37, c: 1, ka: 3, kb: 3, oa: 16, ob: 16, actA: "Relu", actB: "Relu", pool: 2, seed: 1}, // the U-Net's first block
		{n: 2, h: 20, w: 45, c: 2, ka: 3, kb: 3, oa: 5, ob: 7, actB: "Relu", pool: 2, seed: 2},
		{n: 3, h: 14, w: 31, c: 3, ka: 1, kb: 3, oa: 4, ob: 3, actA: "Relu", pool: 4, seed: 3},
		{n: 1, h: 19, w: 40, c: 2, ka: 3, kb: 1, oa: 6, ob: 2, pool: 3, seed: 4},                            // 3 does not divide the band: unfused
		{n: 1, h: 20, w: 35, c: 16, ka: 3, kb: 3, oa: 4, ob: 5, actB: "Relu", pool: 2, seed: 5},             // deep A: unfused
		{n: 2, h: 12, w: 9, c: 2, ka: 3, kb: 3, oa: 4, ob: 5, actA: "Relu", actB: "Relu", pool: 2, seed: 6}, // narrow: unfused
	}
	for _, mk := range gemm.KernelNames() {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("kernel=%s/%+v", mk, tc), func(t *testing.T) {
				defer gemm.Use(mk)()
				gd := tc.graph(t)
				nodes, _ := fuseConvChains(gd.GetNode(), nil)
				pair := nodeNamed(nodes, tc.last())
				require.Equal(t, "_FusedConvPair2D", pair.GetOp())
				require.NotNil(t, pair.GetAttr()["pool_ksize"], "the pool is fused into the pair")
				require.Equal(t, "Identity", nodeOp(nodes, "pool"))
				checkConvPair(t, tc, "_FusedConvPair2D")
			})
		}
	}
}

// TestFuseConvPairGuards checks the chains the rewrite leaves alone and
// the kernel's fallback to the unfused kernels.
func TestFuseConvPairGuards(t *testing.T) {
	base := convPairCase{n: 2, h: 19, w: 41, c: 4, ka: 3, kb: 3, oa: 6, ob: 3, actA: "Relu", actB: "Relu", softmax: true, seed: 5}
	t.Run("a_used_twice", func(t *testing.T) {
		tc := base
		tc.extraUseOfA = true
		nodes, _ := fuseConvChains(tc.graph(t).GetNode(), nil)
		assert.Equal(t, "Softmax", nodeOp(nodes, "sm"))
		assert.Equal(t, "_FusedConv2D", nodeOp(nodes, "act_b"))
		assert.Equal(t, "_FusedConv2D", nodeOp(nodes, "act_a"))
	})
	t.Run("a_returned", func(t *testing.T) {
		nodes, _ := fuseConvChains(base.graph(t).GetNode(), []string{"act_a:activations:0"})
		assert.Equal(t, "Softmax", nodeOp(nodes, "sm"))
	})
	t.Run("b_used_twice", func(t *testing.T) {
		// The softmax stays; the two convolutions still pair.
		tc := base
		tc.extraUseOfB = true
		nodes, _ := fuseConvChains(tc.graph(t).GetNode(), nil)
		assert.Equal(t, "Softmax", nodeOp(nodes, "sm"))
		checkConvPair(t, convPairCase{n: 2, h: 19, w: 41, c: 4, ka: 3, kb: 3, oa: 6, ob: 3, actA: "Relu", actB: "Relu", seed: 5, extraUseOfB: true}, "_FusedConvPair2D")
	})
	t.Run("after_concat_fold", func(t *testing.T) {
		// A convolution whose input concatenation is folded into it
		// (_FusedConcatConv2D) is no pair's first convolution.
		cc := concatConvCase{crop: "StridedSlice", cropFirst: true, act: "Relu", n: 1, padding: "VALID", convS: 1}
		nodes := cc.graph(t, cc.data()).GetNode()
		mk := func(name, op string, inputs []string, attrs map[string]any) *nodepb.NodeDef {
			n := &nodepb.NodeDef{Name: name, Op: op, Input: inputs, Attr: map[string]*attrpb.AttrValue{}}
			for k, v := range attrs {
				a, err := tfops.AttrValue(v)
				require.NoError(t, err)
				n.Attr[k] = a
			}
			return n
		}
		f2, b2 := tfops.MustFromSlice(make([]float32, 3*ccO), 1, 1, ccO, 3), tfops.MustFromSlice(make([]float32, 3), 3)
		nodes = append(nodes,
			mk("f2", "Const", nil, map[string]any{"value": f2, "dtype": tfops.Float}),
			mk("conv2", "Conv2D", []string{"act", "f2"}, map[string]any{"T": tfops.Float, "strides": []int{1, 1, 1, 1}, "padding": "VALID"}),
			mk("b2", "Const", nil, map[string]any{"value": b2, "dtype": tfops.Float}),
			mk("bias2", "BiasAdd", []string{"conv2", "b2"}, map[string]any{"T": tfops.Float}))
		nodes, _ = fuseConvChains(nodes, nil)
		assert.Equal(t, "_FusedConcatConv2D", nodeOp(nodes, "act"))
		assert.Equal(t, "_FusedConv2D", nodeOp(nodes, "bias2"))
	})
	for _, f := range []struct {
		name   string
		change func(*convPairCase)
	}{
		// Rows narrower than a GEMM tile: the kernel runs the ops unfused.
		{"narrow_output", func(tc *convPairCase) { tc.w = 9 }},
		// Known to be a grouped convolution only at run time: unfused.
		{"grouped", func(tc *convPairCase) { tc.groups = 2 }},
		// B's window is taller than A's output: what the unfused kernels
		// make of it.
		{"too_small", func(tc *convPairCase) { tc.h = 4 }},
		// A 3x3 B after a deep A (3·3·16 = 144 products per element), in
		// bands that take the A rows they share with the band before from
		// it (it ran unfused while every band recomputed them).
		{"deep_a", func(tc *convPairCase) { tc.c, tc.w, tc.h = 16, 35, 45 }},
	} {
		t.Run(f.name, func(t *testing.T) {
			tc := base
			f.change(&tc)
			checkConvPair(t, tc, "_FusedConvPair2D")
		})
	}
	t.Run("bad_bias", func(t *testing.T) {
		tc := base
		tc.badBiasB = true
		gd := tc.graph(t)
		nodes, _ := fuseConvChains(gd.GetNode(), nil)
		require.Equal(t, "_FusedConvPair2D", nodeOp(nodes, "sm"))
		_, err := runPair(t, gd, nodes, 2, "sm")
		require.Error(t, err)
		msg := err.Error()
		assert.Contains(t, msg, `node "sm" (_FusedConvPair2D): convolution "act_b"`)
		assert.True(t, strings.Contains(msg, "bias must be a float32 vector of 3"), msg)
	})
	t.Run("bad_inputs", func(t *testing.T) {
		gd := base.graph(t)
		nodes, _ := fuseConvChains(gd.GetNode(), nil)
		for _, n := range nodes {
			if n.GetName() == "sm" {
				n.Input = n.Input[:4]
			}
		}
		_, err := runPair(t, gd, nodes, 2, "sm")
		require.Error(t, err)
		assert.Contains(t, err.Error(), `node "sm" (_FusedConvPair2D): `)
		assert.Contains(t, err.Error(), "expects 5 inputs")
	})
}
