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
	"github.com/tfseg/tfseg/tfops"
)

// convPoolCase is a graph x → Conv2D (k×k, VALID) → BiasAdd [→ act] →
// MaxPool for the conv+pool fusion tests.
type convPoolCase struct {
	n, h, w, c, o, k int
	ph, pw, sh, sw   int    // the pool's ksize and strides
	padding          string // the pool's padding ("" for VALID)
	convPadding      string // the convolution's ("" for VALID)
	act              string
	nan              bool // some inputs are NaN
}

func (tc convPoolCase) String() string {
	return fmt.Sprintf("%dx%dx%dx%d_k%d_o%d_pool%dx%d/%dx%d_%s_act=%s_nan=%v",
		tc.n, tc.h, tc.w, tc.c, tc.k, tc.o, tc.ph, tc.pw, tc.sh, tc.sw, tc.padding, tc.act, tc.nan)
}

// last is the name of the node whose output is the convolution's.
func (tc convPoolCase) last() string {
	if tc.act == "" {
		return "bias"
	}
	return "act"
}

// data returns x, the filter and the bias.
func (tc convPoolCase) data() (x, f, b []float32) {
	rng := rand.New(rand.NewSource(int64(tc.n*1000 + tc.h*10 + tc.w + tc.o)))
	x = normals32(rng, tc.n*tc.h*tc.w*tc.c)
	if tc.nan {
		for i := 0; i < len(x)/50+1; i++ {
			x[rng.Intn(len(x))] = float32(math.NaN())
		}
	}
	return x, normals32(rng, tc.k*tc.k*tc.c*tc.o), normals32(rng, tc.o)
}

// graph builds the case; with blocked, an Identity between the
// convolution and the pool keeps them from being fused (the reference).
func (tc convPoolCase) graph(t *testing.T, blocked bool) *graphpb.GraphDef {
	t.Helper()
	xv, fv, bv := tc.data()
	s := tfops.NewScope()
	out := []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.UnknownShape()}}
	x := tfops.Const(s.WithOpName("x"), tfops.MustFromSlice(xv, tc.n, tc.h, tc.w, tc.c))
	f := tfops.Const(s.WithOpName("f"), tfops.MustFromSlice(fv, tc.k, tc.k, tc.c, tc.o))
	convPadding := tc.convPadding
	if convPadding == "" {
		convPadding = "VALID"
	}
	conv := s.AddOp(tfops.OpSpec{Type: "Conv2D", Name: "conv", Inputs: []any{x, f}, Outputs: out,
		Attrs: map[string]any{"T": tfops.Float, "strides": []int{1, 1, 1, 1}, "padding": convPadding}})
	b := tfops.Const(s.WithOpName("b"), tfops.MustFromSlice(bv, tc.o))
	y := s.AddOp(tfops.OpSpec{Type: "BiasAdd", Name: "bias", Inputs: []any{conv.Output(0), b}, Outputs: out,
		Attrs: map[string]any{"T": tfops.Float}}).Output(0)
	if tc.act != "" {
		y = s.AddOp(tfops.OpSpec{Type: tc.act, Name: "act", Inputs: []any{y}, Outputs: out, Attrs: map[string]any{"T": tfops.Float}}).Output(0)
	}
	if blocked {
		y = tfops.Identity(s.WithOpName("blocked"), y)
	}
	padding := tc.padding
	if padding == "" {
		padding = "VALID"
	}
	s.AddOp(tfops.OpSpec{Type: "MaxPool", Name: "pool", Inputs: []any{y}, Outputs: out,
		Attrs: map[string]any{"T": tfops.Float, "ksize": []int{1, tc.ph, tc.pw, 1}, "strides": []int{1, tc.sh, tc.sw, 1}, "padding": padding}})
	gd, err := s.Finalize()
	require.NoError(t, err)
	return gd
}

// requireSameBits fails unless got and want hold the same float32 bits.
func requireSameBits(t *testing.T, what string, want, got *tfops.Tensor) {
	t.Helper()
	require.Equal(t, want.Shape(), got.Shape(), what)
	w, g := want.Float32s(), got.Float32s()
	for i := range w {
		if math.Float32bits(w[i]) != math.Float32bits(g[i]) {
			t.Fatalf("%s element %d: %v (%#x), want %v (%#x)", what, i, g[i], math.Float32bits(g[i]), w[i], math.Float32bits(w[i]))
		}
	}
}

// checkConvPoolReference checks the fused node's outputs against the
// case's float64 convolution (within float32 rounding) and a max-pool
// loop over the convolution output it returned (NaN when the window holds
// one, +0 over -0).
func checkConvPoolReference(t *testing.T, tc convPoolCase, conv, pool *tfops.Tensor) {
	t.Helper()
	xv, fv, bv := tc.data()
	oh, ow := tc.h-tc.k+1, tc.w-tc.k+1
	require.Equal(t, []int{tc.n, oh, ow, tc.o}, conv.Shape())
	cv := conv.Float32s()
	forNHWC(tc.n, oh, ow, tc.o, func(n, y, xo, q int) {
		sum, mag := float64(bv[q]), math.Abs(float64(bv[q]))
		for i := range tc.k {
			for j := range tc.k {
				for ch := range tc.c {
					p := float64(xv[((n*tc.h+y+i)*tc.w+xo+j)*tc.c+ch]) * float64(fv[((i*tc.k+j)*tc.c+ch)*tc.o+q])
					sum, mag = sum+p, mag+math.Abs(p)
				}
			}
		}
		if tc.act == "Relu" && sum < 0 {
			sum = 0
		}
		g := float64(cv[((n*oh+y)*ow+xo)*tc.o+q])
		if math.IsNaN(sum) != math.IsNaN(g) || math.Abs(g-sum) > 100*0x1p-24*mag {
			t.Fatalf("conv (%d,%d,%d,%d): %v, want %v", n, y, xo, q, g, sum)
		}
	})
	poh, pow := oh/tc.ph, ow/tc.pw
	require.Equal(t, []int{tc.n, poh, pow, tc.o}, pool.Shape())
	pv := pool.Float32s()
	forNHWC(tc.n, poh, pow, tc.o, func(n, y, xo, q int) {
		want := float32(math.Inf(-1))
		for i := range tc.ph {
			for j := range tc.pw {
				v := cv[((n*oh+y*tc.ph+i)*ow+xo*tc.pw+j)*tc.o+q]
				if v != v || want != want {
					want = float32(math.NaN())
				} else if v > want || (v == 0 && want == 0 && !math.Signbit(float64(v))) {
					want = v
				}
			}
		}
		g := pv[((n*poh+y)*pow+xo)*tc.o+q]
		if (want != want) != (g != g) || (want == want && math.Float32bits(want) != math.Float32bits(g)) {
			t.Fatalf("pool (%d,%d,%d,%d): %v, want %v", n, y, xo, q, g, want)
		}
	})
}

// forNHWC calls fn on every index of an n×h×w×c tensor, in order.
func forNHWC(n, h, w, c int, fn func(n, y, x, q int)) {
	for i := range n * h * w * c {
		fn(i/(h*w*c), i/(w*c)%h, i/c%w, i%c)
	}
}

// convPoolCases are the shapes TestFuseConvPool runs: heights that are
// and are not whole bands or whole windows, widths below and above a
// micro-kernel tile, channel counts below, at and above a panel.
var convPoolCases = []convPoolCase{
	{n: 1, h: 42, w: 40, c: 16, o: 16, k: 3, ph: 2, pw: 2, sh: 2, sw: 2, act: "Relu"}, // the U-Net's layer, small
	{n: 2, h: 37, w: 33, c: 3, o: 20, k: 3, ph: 2, pw: 2, sh: 2, sw: 2, act: "Relu", nan: true},
	{n: 3, h: 29, w: 12, c: 5, o: 8, k: 1, ph: 2, pw: 2, sh: 2, sw: 2, act: ""},
	{n: 1, h: 53, w: 31, c: 16, o: 33, k: 3, ph: 3, pw: 3, sh: 3, sw: 3, act: "Relu", nan: true},
	{n: 2, h: 23, w: 26, c: 7, o: 4, k: 2, ph: 3, pw: 3, sh: 3, sw: 3, act: ""},
	{n: 1, h: 9, w: 7, c: 2, o: 5, k: 3, ph: 2, pw: 2, sh: 2, sw: 2, act: "Relu"}, // one band
	{n: 2, h: 30, w: 45, c: 32, o: 32, k: 3, ph: 2, pw: 3, sh: 2, sw: 3, act: "Relu"},
	{n: 1, h: 5, w: 64, c: 16, o: 16, k: 3, ph: 3, pw: 3, sh: 3, sw: 3, act: ""}, // one window high: rows past it
	// Rows of 56 and 42 pixels, one panel: the AVX-512 GEMM's row pairs,
	// an odd height (a last row alone).
	{n: 1, h: 45, w: 58, c: 16, o: 16, k: 3, ph: 2, pw: 2, sh: 2, sw: 2, act: "Relu", nan: true},
	{n: 2, h: 41, w: 44, c: 16, o: 8, k: 3, ph: 3, pw: 3, sh: 3, sw: 3, act: "Relu"},
}

// TestFuseConvPool fuses convolution → bias [→ ReLU] → max-pool and checks
// that both outputs are the bits of the graph the rewrite leaves alone, on
// every GEMM micro-kernel and max-pool row kernel, and against
// independent float64 and max loops.
func TestFuseConvPool(t *testing.T) {
	saved := maxPoolRowF32
	defer func() { maxPoolRowF32 = saved }()
	pools := append([]maxPoolRowKernel{{name: "go"}}, maxPoolRowKernels...)
	for _, mk := range gemm.KernelNames() {
		for _, pk := range pools {
			for _, tc := range convPoolCases {
				t.Run(fmt.Sprintf("gemm=%s/pool=%s/%v", mk, pk.name, tc), func(t *testing.T) {
					defer gemm.Use(mk)()
					maxPoolRowF32 = pk.run
					gd := tc.graph(t, false)
					nodes, changed := fuseConvChains(gd.GetNode(), nil)
					require.True(t, changed)
					require.Equal(t, "_FusedConv2DMaxPool", nodeOp(nodes, tc.last()))
					require.Equal(t, "Identity", nodeOp(nodes, "pool"))
					ref := tc.graph(t, true)
					refNodes, _ := fuseConvChains(ref.GetNode(), nil)
					require.Equal(t, "_FusedConv2D", nodeOp(refNodes, tc.last()))
					require.Equal(t, "MaxPool", nodeOp(refNodes, "pool"))

					got := runGraph(t, gd, tc.last(), "pool:0")
					want := runGraph(t, ref, tc.last(), "pool")
					requireSameBits(t, "conv", want[0], got[0])
					requireSameBits(t, "pool", want[1], got[1])
					if mk == gemm.KernelNames()[0] && pk.name == "go" {
						checkConvPoolReference(t, tc, got[0], got[1])
					}
				})
			}
		}
	}
}

// TestFuseConvPoolGuards checks the pools and convolutions the rewrite
// leaves alone, and the other rewrites it keeps.
func TestFuseConvPoolGuards(t *testing.T) {
	base := convPoolCase{n: 1, h: 12, w: 12, c: 3, o: 4, k: 3, ph: 2, pw: 2, sh: 2, sw: 2, act: "Relu"}
	for _, tc := range []struct {
		name string
		edit func(*convPoolCase)
	}{
		{"same_pool", func(c *convPoolCase) { c.padding = "SAME" }},
		{"overlapping_windows", func(c *convPoolCase) { c.ph, c.pw, c.sh, c.sw = 3, 3, 2, 2 }},
		{"strided_windows", func(c *convPoolCase) { c.sh, c.sw = 3, 3 }},
		{"relu6", func(c *convPoolCase) { c.act = "Relu6" }},
		{"same_conv", func(c *convPoolCase) { c.convPadding = "SAME" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.edit(&c)
			gd := c.graph(t, false)
			nodes, _ := fuseConvChains(gd.GetNode(), nil)
			assert.Equal(t, "_FusedConv2D", nodeOp(nodes, c.last()))
			assert.Equal(t, "MaxPool", nodeOp(nodes, "pool"))
		})
	}
	t.Run("two_pools", func(t *testing.T) {
		// The second pool of the same convolution stays a MaxPool node.
		gd := base.graph(t, false)
		nodes := append(gd.GetNode(), &nodepb.NodeDef{Name: "pool2", Op: "MaxPool", Input: []string{"act"}, Attr: nodeNamed(gd.GetNode(), "pool").GetAttr()})
		fused, _ := fuseConvChains(nodes, nil)
		assert.Equal(t, "_FusedConv2DMaxPool", nodeOp(fused, "act"))
		assert.Equal(t, "Identity", nodeOp(fused, "pool"))
		assert.Equal(t, "MaxPool", nodeOp(fused, "pool2"))
		got := runGraph(t, withNodes(gd, nodes), "pool", "pool2")
		requireSameBits(t, "pools", got[0], got[1])
	})
	t.Run("function_syntax", func(t *testing.T) {
		// A function body names outputs "node:arg:index": the pool reads
		// output 1 of the same arg.
		var body []*nodepb.NodeDef
		for _, n := range base.graph(t, false).GetNode() {
			in := make([]string, len(n.GetInput()))
			for i, ref := range n.GetInput() {
				in[i] = ref + ":output:0"
			}
			body = append(body, &nodepb.NodeDef{Name: n.GetName(), Op: n.GetOp(), Input: in, Attr: n.GetAttr()})
		}
		pool := nodeNamed(body, "pool")
		pool.Input = []string{"act:activations:0", "^x"}
		fd := &fpb.FunctionDef{NodeDef: body, Ret: map[string]string{"y": "pool:output:0"}}
		got := fuseConvFunction(fd)
		assert.Equal(t, "MaxPool", pool.GetOp(), "the input FunctionDef is kept")
		assert.Equal(t, "_FusedConv2DMaxPool", nodeOp(got.GetNodeDef(), "act"))
		assert.Equal(t, []string{"act:activations:1", "^x"}, nodeNamed(got.GetNodeDef(), "pool").GetInput())
	})
}

func nodeNamed(nodes []*nodepb.NodeDef, name string) *nodepb.NodeDef {
	for _, n := range nodes {
		if n.GetName() == name {
			return n
		}
	}
	return nil
}

// fusedConvPoolNodes returns a graph running x (n×h×w×c) and a k×k filter
// of depth fc through _FusedConv2DMaxPool "op" with the given attrs, and
// the same as _FusedConv2D "conv" → MaxPool "pool" (the reference, run
// without rewrites).
func fusedConvPoolNodes(t *testing.T, n, h, w, c, k, fc, o int, attrs map[string]any) (fused, ref *graphpb.GraphDef) {
	t.Helper()
	rng := rand.New(rand.NewSource(int64(h*w + c)))
	build := func(split bool) *graphpb.GraphDef {
		s := tfops.NewScope()
		out := []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.UnknownShape()}}
		x := tfops.Const(s.WithOpName("x"), tfops.MustFromSlice(normals32(rng, n*h*w*c), n, h, w, c))
		f := tfops.Const(s.WithOpName("f"), tfops.MustFromSlice(normals32(rng, k*k*fc*o), k, k, fc, o))
		b := tfops.Const(s.WithOpName("b"), tfops.MustFromSlice(normals32(rng, o), o))
		if !split {
			s.AddOp(tfops.OpSpec{Type: "_FusedConv2DMaxPool", Name: "op", Inputs: []any{x, f, b}, Outputs: append(out, out...), Attrs: attrs})
		} else {
			conv := map[string]any{}
			pool := map[string]any{"T": tfops.Float}
			for a, v := range attrs {
				switch a {
				case "pool_ksize", "pool_strides", "pool_padding":
					pool[a[len("pool_"):]] = v
				case "pool_node":
				default:
					conv[a] = v
				}
			}
			y := s.AddOp(tfops.OpSpec{Type: "_FusedConv2D", Name: "conv", Inputs: []any{x, f, b}, Outputs: out, Attrs: conv})
			s.AddOp(tfops.OpSpec{Type: "MaxPool", Name: "pool", Inputs: []any{y.Output(0)}, Outputs: out, Attrs: pool})
		}
		gd, err := s.Finalize()
		require.NoError(t, err)
		return gd
	}
	fused = build(false)
	rng = rand.New(rand.NewSource(int64(h*w + c)))
	return fused, build(true)
}

// convPoolAttrs are the attrs of a _FusedConv2DMaxPool node that computes
// in bands.
func convPoolAttrs() map[string]any {
	return map[string]any{"T": tfops.Float, "strides": []int{1, 1, 1, 1}, "padding": "VALID", "fused_ops": []string{"BiasAdd", "Relu"},
		"num_args": 1, "pool_ksize": []int{1, 2, 2, 1}, "pool_strides": []int{1, 2, 2, 1}, "pool_padding": "VALID", "pool_node": "p"}
}

// TestFusedConv2DMaxPoolFallback runs _FusedConv2DMaxPool nodes, one in
// bands and the others not (what the bands cannot compute is known at run
// time: they run the _FusedConv2D and MaxPool kernels), and checks that
// they give the bits of the _FusedConv2D and MaxPool nodes.
func TestFusedConv2DMaxPoolFallback(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		n, h, w, c, k, fc, o int
		edit                 func(map[string]any)
	}{
		{"bands", 2, 20, 19, 3, 3, 3, 5, func(map[string]any) {}},
		{"elu", 2, 20, 19, 3, 3, 3, 5, func(a map[string]any) { a["fused_ops"] = []string{"BiasAdd", "Elu"} }},
		{"grouped", 1, 12, 13, 4, 3, 2, 6, func(map[string]any) {}},
		{"window_above_output", 1, 4, 9, 3, 3, 3, 5, func(a map[string]any) {
			a["pool_ksize"], a["pool_strides"] = []int{1, 3, 3, 1}, []int{1, 3, 3, 1}
		}},
		{"same_pool", 1, 11, 12, 3, 3, 3, 5, func(a map[string]any) { a["pool_padding"] = "SAME" }},
		{"same_conv", 1, 11, 12, 3, 3, 3, 5, func(a map[string]any) { a["padding"] = "SAME" }},
		{"overlapping_windows", 1, 11, 12, 3, 3, 3, 5, func(a map[string]any) { a["pool_ksize"] = []int{1, 3, 3, 1} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attrs := convPoolAttrs()
			tc.edit(attrs)
			fused, ref := fusedConvPoolNodes(t, tc.n, tc.h, tc.w, tc.c, tc.k, tc.fc, tc.o, attrs)
			got := runGraphOn(t, Engine{Unfused: true}, fused, "op:0", "op:1")
			want := runGraphOn(t, Engine{Unfused: true}, ref, "conv", "pool")
			requireSameBits(t, "conv", want[0], got[0])
			requireSameBits(t, "pool", want[1], got[1])
		})
	}
}

// TestFusedConv2DMaxPoolErrors checks that bad inputs and attrs fail with
// errors naming the node (and the pool's node for the pool's attrs).
func TestFusedConv2DMaxPoolErrors(t *testing.T) {
	run := func(t *testing.T, gd *graphpb.GraphDef, feeds map[string]*tfops.Tensor, fetch string) error {
		sess, err := Engine{}.NewSession(gd, engine.SessionOptions{})
		require.NoError(t, err)
		defer sess.Close()
		_, err = sess.Run(context.Background(), feeds, []string{fetch}, nil)
		require.Error(t, err)
		assert.ErrorIs(t, err, engine.ErrKernel)
		return err
	}
	for _, tc := range []struct {
		name string
		edit func(map[string]any)
		want string
	}{
		{"no_pool_attrs", func(a map[string]any) { delete(a, "pool_ksize") }, "pool_ksize"},
		{"pool_depth", func(a map[string]any) { a["pool_ksize"], a["pool_strides"] = []int{1, 2, 2, 2}, []int{1, 2, 2, 2} },
			`max-pool "p" (fused into this node): ` + engine.ErrKernel.Error() + ": ksize [1 2 2 2] must be [1, h, w, 1]"},
		{"fused_ops", func(a map[string]any) { a["fused_ops"] = []string{"BiasAdd", "Tanh"} }, "not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attrs := convPoolAttrs()
			tc.edit(attrs)
			fused, _ := fusedConvPoolNodes(t, 1, 8, 8, 2, 3, 2, 4, attrs)
			err := run(t, fused, nil, "op:1")
			assert.ErrorContains(t, err, `node "op" (_FusedConv2DMaxPool)`)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	t.Run("input_depth", func(t *testing.T) {
		// The rewritten graph fed an input of the wrong depth: the error
		// names the convolution's node.
		s := tfops.NewScope()
		out := []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.UnknownShape()}}
		x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.UnknownShape())
		f := tfops.Const(s.WithOpName("f"), tfops.MustFromSlice(make([]float32, 3*3*2*4), 3, 3, 2, 4))
		b := tfops.Const(s.WithOpName("b"), tfops.MustFromSlice(make([]float32, 4), 4))
		conv := s.AddOp(tfops.OpSpec{Type: "Conv2D", Name: "conv", Inputs: []any{x, f}, Outputs: out,
			Attrs: map[string]any{"T": tfops.Float, "strides": []int{1, 1, 1, 1}, "padding": "VALID"}})
		ba := s.AddOp(tfops.OpSpec{Type: "BiasAdd", Name: "bias", Inputs: []any{conv.Output(0), b}, Outputs: out, Attrs: map[string]any{"T": tfops.Float}})
		act := s.AddOp(tfops.OpSpec{Type: "Relu", Name: "act", Inputs: []any{ba.Output(0)}, Outputs: out, Attrs: map[string]any{"T": tfops.Float}})
		s.AddOp(tfops.OpSpec{Type: "MaxPool", Name: "pool", Inputs: []any{act.Output(0)}, Outputs: out,
			Attrs: map[string]any{"T": tfops.Float, "ksize": []int{1, 2, 2, 1}, "strides": []int{1, 2, 2, 1}, "padding": "VALID"}})
		gd, err := s.Finalize()
		require.NoError(t, err)
		nodes, _ := fuseConvChains(gd.GetNode(), nil)
		require.Equal(t, "_FusedConv2DMaxPool", nodeOp(nodes, "act"))
		err = run(t, gd, map[string]*tfops.Tensor{"x": tfops.MustFromSlice(make([]float32, 6*6*3), 1, 6, 6, 3)}, "pool")
		assert.ErrorContains(t, err, `node "act" (_FusedConv2DMaxPool)`)
		assert.ErrorContains(t, err, "input depth must be evenly divisible by filter depth: 3 vs 2")
	})
}
