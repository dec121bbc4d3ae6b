package enginetest

import (
	"github.com/tfseg/tfseg/tfops"
)

// ReverseV2, MatrixBandPart, EnsureShape, DepthToSpace and SpaceToDepth
// against index-mapping references.
func kerasArray2Cases() []Case {
	f := tfops.Float
	var cs []Case
	for _, sc := range []struct {
		name string
		dims []int
		axes []int64
	}{{"time-axis", []int{2, 5, 3}, []int64{1}}, {"two-axes", []int{3, 4, 2}, []int64{0, -1}}, {"none", []int{2, 3}, nil}, {"empty", []int{0, 3}, []int64{0}}} {
		sc := sc
		cs = append(cs, exact("ReverseV2/float32/"+sc.name, "ReverseV2", "tf.reverse (Bidirectional, go_backwards)", func(s *tfops.Scope, g *Graph) {
			xt := tensorF(f, sc.dims, randn(rng(111), numElems(sc.dims), 1))
			g.Fetches = outputs(addOp(s, "ReverseV2", []any{feed(s, g, "x", xt), tfops.Const(s, tensorI(tfops.Int32, []int{len(sc.axes)}, sc.axes))},
				map[string]any{"T": f, "Tidx": tfops.Int32}, f))
			g.Want = []*tfops.Tensor{gatherRef(xt, sc.dims, func(idx []int) []int {
				j := append([]int{}, idx...)
				for _, a := range sc.axes {
					d := int(a)
					if d < 0 {
						d += len(sc.dims)
					}
					j[d] = sc.dims[d] - 1 - idx[d]
				}
				return j
			}, nil)}
		}))
	}
	cs = append(cs, failing("ReverseV2/float32/repeated-axis", "ReverseV2", "an axis given twice", func(s *tfops.Scope, g *Graph) {
		x := feedUnknown(s, g, "x", arange(f, 2, 3))
		g.Fetches = outputs(addOp(s, "ReverseV2", []any{x, tfops.Const(s, i32(1, -1))}, map[string]any{"T": f, "Tidx": tfops.Int32}, f))
	}))
	for _, sc := range []struct {
		name         string
		dims         []int
		lower, upper int64
		d            tfops.DType
	}{{"causal-bool", []int{1, 4, 5}, -1, 0, tfops.Bool}, {"tridiagonal", []int{2, 5, 4}, 1, 1, f}, {"upper", []int{4, 4}, 0, -1, f}, {"all", []int{3, 2}, -1, -1, f}} {
		sc := sc
		cs = append(cs, exact("MatrixBandPart/"+sc.d.String()+"/"+sc.name, "MatrixBandPart", "tf.linalg.band_part (MultiHeadAttention causal mask)", func(s *tfops.Scope, g *Graph) {
			var xt *tfops.Tensor
			if sc.d == tfops.Bool {
				v := make([]bool, numElems(sc.dims))
				for i := range v {
					v[i] = true
				}
				xt = tensorB(sc.dims, v)
			} else {
				xt = tensorF(f, sc.dims, randn(rng(112), numElems(sc.dims), 1))
			}
			lo, up := tensorI(tfops.Int64, []int{}, []int64{sc.lower}), tensorI(tfops.Int64, []int{}, []int64{sc.upper})
			g.Fetches = outputs(addOp(s, "MatrixBandPart", []any{feed(s, g, "x", xt), tfops.Const(s, lo), tfops.Const(s, up)}, map[string]any{"T": sc.d, "Tindex": tfops.Int64}, sc.d))
			var zero any = float32(0)
			if sc.d == tfops.Bool {
				zero = false
			}
			r := len(sc.dims)
			g.Want = []*tfops.Tensor{gatherRef(xt, sc.dims, func(idx []int) []int {
				m, n := int64(idx[r-2]), int64(idx[r-1])
				if (sc.lower < 0 || m-n <= sc.lower) && (sc.upper < 0 || n-m <= sc.upper) {
					return idx
				}
				return nil
			}, zero)}
		}))
	}
	cs = append(cs,
		exact("EnsureShape/float32/compatible", "EnsureShape", "passes a tensor of a compatible shape", func(s *tfops.Scope, g *Graph) {
			xt := arange(f, 2, 3)
			g.Fetches = outputs(addOp(s, "EnsureShape", []any{feedUnknown(s, g, "x", xt)}, map[string]any{"T": f, "shape": tfops.MakeShape(-1, 3)}, f))
			g.Want = []*tfops.Tensor{xt}
		}),
		failing("EnsureShape/float32/incompatible", "EnsureShape", "a shape other than the expected one", func(s *tfops.Scope, g *Graph) {
			g.Fetches = outputs(addOp(s, "EnsureShape", []any{feedUnknown(s, g, "x", arange(f, 2, 3))}, map[string]any{"T": f, "shape": tfops.MakeShape(-1, 4)}, f))
		}),
	)
	for _, toSpace := range []bool{true, false} {
		for _, b := range []int{2, 3} {
			toSpace, b := toSpace, b
			op, in := "SpaceToDepth", []int{2, 2 * b, 3 * b, 2}
			if toSpace {
				op, in = "DepthToSpace", []int{2, 2, 3, 2 * b * b}
			}
			cs = append(cs, exact(op+"/float32/block"+string(rune('0'+b)), op, "NHWC sub-pixel rearrangement", func(s *tfops.Scope, g *Graph) {
				xt := tensorF(f, in, randn(rng(113), numElems(in), 1))
				g.Fetches = outputs(addOp(s, op, []any{feed(s, g, "x", xt)}, map[string]any{"T": f, "block_size": b, "data_format": "NHWC"}, f))
				if toSpace {
					cc := in[3] / (b * b)
					g.Want = []*tfops.Tensor{gatherRef(xt, []int{in[0], in[1] * b, in[2] * b, cc}, func(idx []int) []int {
						return []int{idx[0], idx[1] / b, idx[2] / b, ((idx[1]%b)*b+idx[2]%b)*cc + idx[3]}
					}, nil)}
				} else {
					g.Want = []*tfops.Tensor{gatherRef(xt, []int{in[0], in[1] / b, in[2] / b, in[3] * b * b}, func(idx []int) []int {
						blk, c := idx[3]/in[3], idx[3]%in[3]
						return []int{idx[0], idx[1]*b + blk/b, idx[2]*b + blk%b, c}
					}, nil)}
				}
			}))
		}
	}
	// StridedSliceGrad: dy written at the positions StridedSlice reads.
	for _, sc := range []struct {
		name                string
		shape               []int
		begin, end, strides []int64
		endMask, shrinkMask int
		dy                  []int
		pos                 func(idx []int) []int
	}{
		{"strided-reversed", []int{6, 4}, []int64{1, 3}, []int64{6, 0}, []int64{2, -1}, 2, 0, []int{3, 4},
			func(idx []int) []int { return []int{1 + 2*idx[0], 3 - idx[1]} }},
		{"shrink-row", []int{3, 5}, []int64{1, 0}, []int64{2, 5}, []int64{1, 1}, 0, 1, []int{5},
			func(idx []int) []int { return []int{1, idx[0]} }},
	} {
		sc := sc
		cs = append(cs, exact("StridedSliceGrad/float32/"+sc.name, "StridedSliceGrad", "the gradient of StridedSlice (saved models' gradient functions)", func(s *tfops.Scope, g *Graph) {
			dy := tensorF(f, sc.dy, randn(rng(117), numElems(sc.dy), 1))
			shape := tensorI(tfops.Int32, []int{len(sc.shape)}, ints64(sc.shape))
			vec := func(v []int64) tfops.Output { return tfops.Const(s, tensorI(tfops.Int32, []int{len(v)}, v)) }
			g.Fetches = outputs(addOp(s, "StridedSliceGrad", []any{tfops.Const(s, shape), vec(sc.begin), vec(sc.end), vec(sc.strides), feed(s, g, "dy", dy)},
				map[string]any{"T": f, "Index": tfops.Int32, "end_mask": sc.endMask, "shrink_axis_mask": sc.shrinkMask}, f))
			want := make([]float64, numElems(sc.shape))
			for i, v := range floats(dy) {
				want[ravel(sc.pos(unravel(i, sc.dy)), sc.shape)] = v
			}
			g.Want = []*tfops.Tensor{tensorF(f, sc.shape, want)}
		}))
	}
	cs = append(cs, failing("DepthToSpace/float32/depth-not-divisible", "DepthToSpace", "a depth block² does not divide", func(s *tfops.Scope, g *Graph) {
		g.Fetches = outputs(addOp(s, "DepthToSpace", []any{feedUnknown(s, g, "x", arange(f, 1, 2, 2, 6))}, map[string]any{"T": f, "block_size": 2, "data_format": "NHWC"}, f))
	}))
	return cs
}
