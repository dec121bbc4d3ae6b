package goengine

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine/internal/gemm"
	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
	"github.com/tfseg/tfseg/tfops"
)

// concatConvCase is a graph ConcatV2(parts, axis) → Conv2D → BiasAdd
// [→ act] for the fold tests.
type concatConvCase struct {
	crop      string // "StridedSlice", "Slice" or "" (part a used uncropped)
	cropFirst bool   // the cropped part comes first in the concatenation
	packed    bool   // the StridedSlice's strides are a Pack of scalar Consts (as Keras writes them)
	stride    int    // the StridedSlice's height stride (1: a plain crop)
	cropC     bool   // the slice also drops channel 0 of a (the kernel falls back)
	padding   string // the convolution's padding
	convS     int    // the convolution's stride
	act       string
	n         int
}

// concat parts: a is n×(H+dh)×(W+dw)×ca, cropped to n×H×W×ca starting at
// (top, left); b is n×H×W×cb.
const (
	ccH, ccW, ccDH, ccDW, ccTop, ccLeft, ccCA, ccCB, ccO = 11, 37, 5, 4, 3, 2, 5, 7, 20
)

type concatConvData struct {
	a, b, f, bias []float32
	ca            int // channels of a the crop keeps
}

func (tc concatConvCase) data() concatConvData {
	rng := rand.New(rand.NewSource(int64(tc.n)*7 + int64(len(tc.act))))
	ca := ccCA
	if tc.cropC {
		ca--
	}
	return concatConvData{
		a:    normals32(rng, tc.n*(2*ccH+ccDH)*(ccW+ccDW)*ccCA),
		b:    normals32(rng, tc.n*ccH*ccW*ccCB),
		f:    normals32(rng, 3*3*(ca+ccCB)*ccO),
		bias: normals32(rng, ccO),
		ca:   ca,
	}
}

func (tc concatConvCase) graph(t *testing.T, d concatConvData) *graphpb.GraphDef {
	t.Helper()
	s := tfops.NewScope()
	out := []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.UnknownShape()}}
	ah, aw := 2*ccH+ccDH, ccW+ccDW
	if tc.crop == "" {
		ah, aw = ccH, ccW
		d.a = d.a[:tc.n*ah*aw*ccCA]
	}
	a := tfops.Const(s.WithOpName("a"), tfops.MustFromSlice(d.a, tc.n, ah, aw, ccCA))
	b := tfops.Const(s.WithOpName("b"), tfops.MustFromSlice(d.b, tc.n, ccH, ccW, ccCB))
	i32 := func(name string, v ...int32) tfops.Output {
		return tfops.Const(s.WithOpName(name), tfops.MustFromSlice(v, len(v)))
	}
	c0 := int32(0)
	if tc.cropC {
		c0 = 1
	}
	var part tfops.Output
	switch tc.crop {
	case "StridedSlice":
		st := max(1, tc.stride)
		strides := i32("strides", 1, int32(st), 1, 1)
		if tc.packed {
			var ones []tfops.Output
			for i, v := range []int32{1, int32(st), 1, 1} {
				ones = append(ones, tfops.Const(s.WithOpName(fmt.Sprintf("one%d", i)), tfops.MustFromSlice([]int32{v}, []int{}...)))
			}
			strides = tfops.Pack(s.WithOpName("strides_pack"), ones, 0)
		}
		mask := 9
		if tc.cropC {
			mask = 1
		}
		part = s.AddOp(tfops.OpSpec{Type: "StridedSlice", Name: "crop", Outputs: out,
			Inputs: []any{a, i32("begin", 0, ccTop, ccLeft, c0), i32("end", 0, ccTop+int32(ccH*st), ccLeft+ccW, ccCA), strides},
			Attrs:  map[string]any{"T": tfops.Float, "Index": tfops.Int32, "begin_mask": mask, "end_mask": mask}}).Output(0)
	case "Slice":
		part = s.AddOp(tfops.OpSpec{Type: "Slice", Name: "crop", Outputs: out,
			Inputs: []any{a, i32("begin", 0, ccTop, ccLeft, c0), i32("size", -1, ccH, ccW, -1)},
			Attrs:  map[string]any{"T": tfops.Float, "Index": tfops.Int32}}).Output(0)
	default:
		part = a
	}
	values := []any{part, b}
	if !tc.cropFirst {
		values = []any{b, part}
	}
	values = append(values, tfops.Const(s.WithOpName("axis"), tfops.MustFromSlice([]int32{-1}, []int{}...)))
	concat := s.AddOp(tfops.OpSpec{Type: "ConcatV2", Name: "concat", Inputs: values, Outputs: out,
		Attrs: map[string]any{"T": tfops.Float, "N": 2, "Tidx": tfops.Int32}})
	f := tfops.Const(s.WithOpName("f"), tfops.MustFromSlice(d.f, 3, 3, d.ca+ccCB, ccO))
	conv := s.AddOp(tfops.OpSpec{Type: "Conv2D", Name: "conv", Inputs: []any{concat.Output(0), f}, Outputs: out,
		Attrs: map[string]any{"T": tfops.Float, "strides": []int{1, tc.convS, tc.convS, 1}, "padding": tc.padding}})
	bias := tfops.Const(s.WithOpName("bias_v"), tfops.MustFromSlice(d.bias, ccO))
	ba := s.AddOp(tfops.OpSpec{Type: "BiasAdd", Name: "bias", Inputs: []any{conv.Output(0), bias}, Outputs: out,
		Attrs: map[string]any{"T": tfops.Float}})
	if tc.act != "" {
		s.AddOp(tfops.OpSpec{Type: tc.act, Name: "act", Inputs: []any{ba.Output(0)}, Outputs: out, Attrs: map[string]any{"T": tfops.Float}})
	}
	gd, err := s.Finalize()
	require.NoError(t, err)
	return gd
}

// reference computes the unfused graph in float64 from the raw values:
// crop, concatenation, convolution, bias and activation, and for each
// output the sum of the absolute values of its terms (for the float32
// rounding bound).
func (tc concatConvCase) reference(d concatConvData) (want, mag []float64, dims []int) {
	st := max(1, tc.stride)
	ah, aw := 2*ccH+ccDH, ccW+ccDW
	top, left := ccTop, ccLeft
	if tc.crop == "" {
		ah, aw, top, left = ccH, ccW, 0, 0
	}
	c0 := ccCA - d.ca
	cin := d.ca + ccCB
	// x is the concatenation, n×hc×ccW×cin, hc = ccH (rows top, top+st, ...).
	x := make([]float64, tc.n*ccH*ccW*cin)
	for n := 0; n < tc.n; n++ {
		for y := 0; y < ccH; y++ {
			for z := 0; z < ccW; z++ {
				px := x[((n*ccH+y)*ccW+z)*cin:][:cin]
				var pa, pb []float64
				for q := 0; q < d.ca; q++ {
					pa = append(pa, float64(d.a[((n*ah+top+y*st)*aw+left+z)*ccCA+c0+q]))
				}
				for q := 0; q < ccCB; q++ {
					pb = append(pb, float64(d.b[((n*ccH+y)*ccW+z)*ccCB+q]))
				}
				if tc.cropFirst {
					copy(px, append(pa, pb...))
				} else {
					copy(px, append(pb, pa...))
				}
			}
		}
	}
	s, oh, ow := tc.convS, 0, 0
	pt, pl := 0, 0
	if tc.padding == "SAME" {
		oh, ow = (ccH+s-1)/s, (ccW+s-1)/s
		pt, pl = max(0, ((oh-1)*s+3-ccH)/2), max(0, ((ow-1)*s+3-ccW)/2)
	} else {
		oh, ow = (ccH-3)/s+1, (ccW-3)/s+1
	}
	dims = []int{tc.n, oh, ow, ccO}
	for n := 0; n < tc.n; n++ {
		for y := 0; y < oh; y++ {
			for z := 0; z < ow; z++ {
				for o := 0; o < ccO; o++ {
					v, m := float64(d.bias[o]), math.Abs(float64(d.bias[o]))
					for i := 0; i < 3; i++ {
						for j := 0; j < 3; j++ {
							yy, zz := y*s+i-pt, z*s+j-pl
							if yy < 0 || yy >= ccH || zz < 0 || zz >= ccW {
								continue
							}
							for q := 0; q < cin; q++ {
								p := x[((n*ccH+yy)*ccW+zz)*cin+q] * float64(d.f[((i*3+j)*cin+q)*ccO+o])
								v += p
								m += math.Abs(p)
							}
						}
					}
					if tc.act == "Relu" {
						v = max(v, 0)
					} else if tc.act == "Relu6" {
						v = min(max(v, 0), 6)
					}
					want, mag = append(want, v), append(mag, m)
				}
			}
		}
	}
	return want, mag, dims
}

// checkConcatConv runs the case with its rewrite and compares the result
// with the float64 reference, within float32 rounding of the sums.
func checkConcatConv(t *testing.T, tc concatConvCase, wantOp string) []*nodepb.NodeDef {
	t.Helper()
	d := tc.data()
	gd := tc.graph(t, d)
	last := "bias"
	if tc.act != "" {
		last = "act"
	}
	nodes, changed := fuseConvChains(gd.GetNode(), nil)
	require.True(t, changed)
	require.Equal(t, wantOp, nodeOp(nodes, last))
	want, mag, dims := tc.reference(d)
	for _, fused := range []bool{true, false} {
		// The unfused engine runs the graph as it is; the default one
		// rewrites it as fuseConvChains did here.
		got := runGraphOn(t, Engine{Unfused: !fused}, gd, last)[0]
		require.Equal(t, dims, got.Shape())
		g := got.Float32s()
		for i, w := range want {
			// 3·3·cin terms, each rounded once, plus the bias: a float32
			// sum is within k·2⁻²⁴ of the sum of the magnitudes.
			if tol := 100 * 0x1p-24 * mag[i]; math.Abs(float64(g[i])-w) > tol {
				t.Fatalf("fused=%v element %d: %v, want %v (tolerance %.3g)", fused, i, g[i], w, tol)
			}
		}
	}
	return nodes
}

// runGraphOn runs gd on e and returns the fetched tensors.
func runGraphOn(t *testing.T, e Engine, gd *graphpb.GraphDef, fetches ...string) []*tfops.Tensor {
	t.Helper()
	sess, err := e.NewSession(gd, engine.SessionOptions{})
	require.NoError(t, err)
	defer sess.Close()
	out, err := sess.Run(context.Background(), nil, fetches, nil)
	require.NoError(t, err)
	return out
}

// TestFoldConcatConv folds crop + concatenation into the convolution and
// checks the results against a float64 loop of the unfused graph, on every
// GEMM micro-kernel and on the pure-Go vector kernels.
func TestFoldConcatConv(t *testing.T) {
	for _, mk := range gemm.KernelNames() {
		for _, generic := range []bool{false, true} {
			for _, tc := range []concatConvCase{
				{crop: "StridedSlice", packed: true, cropFirst: true, act: "Relu", n: 1},
				{crop: "StridedSlice", cropFirst: false, act: "Relu", n: 2},
				{crop: "Slice", cropFirst: true, act: "", n: 2},
				{crop: "Slice", cropFirst: false, act: "Relu6", n: 1},
				{crop: "", cropFirst: true, act: "Relu", n: 3},
			} {
				tc.padding, tc.convS = "VALID", 1
				t.Run(fmt.Sprintf("kernel=%s/generic=%v/%+v", mk, generic, tc), func(t *testing.T) {
					defer gemm.Use(mk)()
					if generic {
						defer vec.UseGeneric()()
					}
					nodes := checkConcatConv(t, tc, "_FusedConcatConv2D")
					last := nodes[slices.IndexFunc(nodes, func(n *nodepb.NodeDef) bool { return n.GetOp() == "_FusedConcatConv2D" })]
					want := []string{"crop", "b"}
					if tc.crop != "" {
						want = []string{"a", "begin", "end", "strides", "b"}
						if tc.crop == "Slice" {
							want = []string{"a", "begin", "size", "b"}
						}
						if tc.packed {
							want[3] = "strides_pack"
						}
					} else {
						want[0] = "a"
					}
					if !tc.cropFirst {
						want = append(want[len(want)-1:], want[:len(want)-1]...)
					}
					assert.Equal(t, append(want, "f", "bias_v"), last.GetInput(), "the parts are read where they are")
				})
			}
		}
	}
}

// TestFoldConcatConvGuards checks what must not fold, by the graph and by
// the results.
func TestFoldConcatConvGuards(t *testing.T) {
	base := concatConvCase{crop: "StridedSlice", cropFirst: true, act: "Relu", n: 2, padding: "VALID", convS: 1}
	t.Run("same_padding", func(t *testing.T) {
		tc := base
		tc.padding = "SAME"
		checkConcatConv(t, tc, "_FusedConv2D")
	})
	t.Run("conv_stride", func(t *testing.T) {
		tc := base
		tc.convS = 2
		checkConcatConv(t, tc, "_FusedConv2D")
	})
	t.Run("slice_stride", func(t *testing.T) {
		// A strided slice is no crop: it runs as its own node, and the
		// concatenation folds with its output as a part.
		tc := base
		tc.stride = 2
		nodes := checkConcatConv(t, tc, "_FusedConcatConv2D")
		assert.Equal(t, []string{"crop", "b", "f", "bias_v"}, nodes[len(nodes)-1].GetInput())
	})
	t.Run("channel_crop", func(t *testing.T) {
		// Known to crop channels only at run time: the kernel computes the
		// slice, the concatenation and the convolution unfolded.
		tc := base
		tc.cropC = true
		checkConcatConv(t, tc, "_FusedConcatConv2D")
	})
	t.Run("concat_used_twice", func(t *testing.T) {
		d := base.data()
		nodes := append(base.graph(t, d).GetNode(), &nodepb.NodeDef{Name: "other", Op: "Identity", Input: []string{"concat"}})
		nodes, _ = fuseConvChains(nodes, nil)
		assert.Equal(t, "_FusedConv2D", nodeOp(nodes, "act"))
	})
	t.Run("crop_returned", func(t *testing.T) {
		d := base.data()
		nodes, _ := fuseConvChains(base.graph(t, d).GetNode(), []string{"crop:output:0"})
		assert.Equal(t, "_FusedConcatConv2D", nodeOp(nodes, "act"))
		assert.Equal(t, []string{"crop", "b", "f", "bias_v"}, nodes[len(nodes)-1].GetInput(), "a used crop is not absorbed")
	})
	t.Run("fetch_intermediates", func(t *testing.T) {
		d := base.data()
		gd := base.graph(t, d)
		nodes, _ := fuseConvChains(gd.GetNode(), nil)
		got := runGraph(t, withNodes(gd, nodes), "concat", "crop")
		want := runGraph(t, gd, "concat", "crop")
		for i := range got {
			assert.Equal(t, want[i].Shape(), got[i].Shape())
			assert.Equal(t, want[i].Float32s(), got[i].Float32s())
		}
	})
}

// BenchmarkConcatConv times the U-Net fixture's two skip-connection layers
// at 1x572x572x1 (crop + concatenation + 3x3 VALID convolution + bias +
// ReLU), folded and not (an Identity after the concatenation blocks the
// fold).
func BenchmarkConcatConv(b *testing.B) {
	for _, l := range []struct{ h, crop, c, o int }{{280, 272, 32, 32}, {568, 536, 16, 16}} {
		for _, folded := range []bool{true, false} {
			b.Run(fmt.Sprintf("%dx%dx%d/folded=%v", l.crop, l.crop, 2*l.c, folded), func(b *testing.B) {
				rng := rand.New(rand.NewSource(1))
				s := tfops.NewScope()
				out := []tfops.OutputInfo{{DType: tfops.Float, Shape: tfops.UnknownShape()}}
				i32 := func(name string, v ...int32) tfops.Output {
					return tfops.Const(s.WithOpName(name), tfops.MustFromSlice(v, len(v)))
				}
				a := tfops.Const(s.WithOpName("a"), tfops.MustFromSlice(normals32(rng, l.h*l.h*l.c), 1, l.h, l.h, l.c))
				up := tfops.Const(s.WithOpName("b"), tfops.MustFromSlice(normals32(rng, l.crop*l.crop*l.c), 1, l.crop, l.crop, l.c))
				off := int32(l.h-l.crop) / 2
				crop := s.AddOp(tfops.OpSpec{Type: "StridedSlice", Name: "crop", Outputs: out,
					Inputs: []any{a, i32("begin", 0, off, off, 0), i32("end", 0, off+int32(l.crop), off+int32(l.crop), 0), i32("strides", 1, 1, 1, 1)},
					Attrs:  map[string]any{"T": tfops.Float, "Index": tfops.Int32, "begin_mask": 9, "end_mask": 9}}).Output(0)
				cc := s.AddOp(tfops.OpSpec{Type: "ConcatV2", Name: "concat", Outputs: out,
					Inputs: []any{crop, up, tfops.Const(s.WithOpName("axis"), tfops.MustFromSlice([]int32{-1}, []int{}...))},
					Attrs:  map[string]any{"T": tfops.Float, "N": 2, "Tidx": tfops.Int32}}).Output(0)
				if !folded {
					cc = tfops.Identity(s.WithOpName("block"), cc)
				}
				f := tfops.Const(s.WithOpName("f"), tfops.MustFromSlice(normals32(rng, 9*2*l.c*l.o), 3, 3, 2*l.c, l.o))
				conv := s.AddOp(tfops.OpSpec{Type: "Conv2D", Name: "conv", Inputs: []any{cc, f}, Outputs: out,
					Attrs: map[string]any{"T": tfops.Float, "strides": []int{1, 1, 1, 1}, "padding": "VALID"}})
				ba := s.AddOp(tfops.OpSpec{Type: "BiasAdd", Name: "bias", Outputs: out,
					Inputs: []any{conv.Output(0), tfops.Const(s.WithOpName("bv"), tfops.MustFromSlice(normals32(rng, l.o), l.o))}, Attrs: map[string]any{"T": tfops.Float}})
				s.AddOp(tfops.OpSpec{Type: "Relu", Name: "act", Inputs: []any{ba.Output(0)}, Outputs: out, Attrs: map[string]any{"T": tfops.Float}})
				gd, err := s.Finalize()
				require.NoError(b, err)
				sess, err := Engine{}.NewSession(gd, engine.SessionOptions{})
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
}
