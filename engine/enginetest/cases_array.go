package enginetest

import (
	"fmt"

	"github.com/tfseg/tfseg/tfops"
)

// Data-movement ops. Each reference maps output multi-indices to input
// multi-indices one element at a time.

// gatherRef builds an output of shape dims whose element at idx is x's
// element at src(idx) (a multi-index of x), or fill when src returns nil.
func gatherRef(x *tfops.Tensor, dims []int, src func(idx []int) []int, fill any) *tfops.Tensor {
	xe := elemList(x)
	out := make([]any, numElems(dims))
	for i := range out {
		if j := src(unravel(i, dims)); j != nil {
			out[i] = xe[ravel(j, x.Shape())]
		} else {
			out[i] = fill
		}
	}
	return fromElemList(x.DType(), dims, out)
}

// arange is a float32 tensor 0, 1, 2, ... of shape dims.
func arange(d tfops.DType, dims ...int) *tfops.Tensor {
	if dims == nil {
		dims = []int{}
	}
	v := make([]float64, numElems(dims))
	for i := range v {
		v[i] = float64(i)
	}
	if d == tfops.Int32 || d == tfops.Int64 {
		iv := make([]int64, len(v))
		for i := range iv {
			iv[i] = int64(i)
		}
		return tensorI(d, dims, iv)
	}
	return tensorF(d, dims, v)
}

// exact is a Case whose result must match exactly.
func exact(name, op, desc string, build func(s *tfops.Scope, g *Graph)) Case {
	return Case{Name: name, Op: op, Description: desc, Build: func(s *tfops.Scope) Graph {
		var g Graph
		build(s, &g)
		return g
	}}
}

func failing(name, op, desc string, build func(s *tfops.Scope, g *Graph)) Case {
	return Case{Name: name, Op: op, Description: desc, Build: func(s *tfops.Scope) Graph {
		var g Graph
		build(s, &g)
		g.WantErr = true
		return g
	}}
}

func i32(v ...int64) *tfops.Tensor { return tensorI(tfops.Int32, []int{len(v)}, v) }

func arrayCases() []Case {
	f := tfops.Float
	cs := []Case{
		exact("Identity/float32", "Identity", "edge values pass through bit for bit", func(s *tfops.Scope, g *Graph) {
			x := tensorF(f, []int{len(edge32)}, floatInputs(f, 1)[:len(edge32)])
			b := tensorB([]int{2}, []bool{true, false})
			g.Fetches = []tfops.Output{tfops.Identity(s, feed(s, g, "x", x)), tfops.Identity(s, feed(s, g, "b", b))}
			g.Want = []*tfops.Tensor{x, b}
		}),
		exact("Shape/float32", "Shape", "int32 and int64 shapes, and of an empty tensor", func(s *tfops.Scope, g *Graph) {
			x := feedUnknown(s, g, "x", arange(f, 2, 3, 4))
			e := feedUnknown(s, g, "e", arange(f, 0, 5))
			g.Fetches = []tfops.Output{tfops.ShapeOp(s, x, tfops.Int32), tfops.ShapeOp(s, e, tfops.Int64)}
			g.Want = []*tfops.Tensor{i32(2, 3, 4), tensorI(tfops.Int64, []int{2}, []int64{0, 5})}
		}),
		exact("Size/float32", "Size", "element counts", func(s *tfops.Scope, g *Graph) {
			x := feedUnknown(s, g, "x", arange(f, 2, 3, 4))
			g.Fetches = []tfops.Output{tfops.Size(s, x, tfops.Int32), tfops.Size(s, x, tfops.Int64)}
			g.Want = []*tfops.Tensor{tensorI(tfops.Int32, []int{}, []int64{24}), tensorI(tfops.Int64, []int{}, []int64{24})}
		}),
		exact("Rank/float32", "Rank", "rank of a scalar and of a rank-3 tensor", func(s *tfops.Scope, g *Graph) {
			x := feedUnknown(s, g, "x", arange(f, 2, 3, 4))
			y := feedUnknown(s, g, "y", arange(f))
			g.Fetches = []tfops.Output{tfops.Rank(s, x), tfops.Rank(s, y)}
			g.Want = []*tfops.Tensor{tensorI(tfops.Int32, []int{}, []int64{3}), tensorI(tfops.Int32, []int{}, []int64{0})}
		}),
		exact("Reshape/float32", "Reshape", "with -1 inferred, to a scalar and of an empty tensor", func(s *tfops.Scope, g *Graph) {
			x := feed(s, g, "x", arange(f, 2, 3, 4))
			one := feed(s, g, "one", arange(f, 1))
			e := feed(s, g, "e", arange(f, 0, 4))
			g.Fetches = []tfops.Output{tfops.ReshapeTo(s, x, 4, -1), tfops.ReshapeTo(s, one), tfops.ReshapeTo(s, e, 2, 0, 2), tfops.ReshapeTo(s, e, -1, 2)}
			g.Want = []*tfops.Tensor{arange(f, 4, 6), arange(f), arange(f, 2, 0, 2), arange(f, 0, 2)}
		}),
		failing("Reshape/float32/bad-size", "Reshape", "a size that does not match the element count", func(s *tfops.Scope, g *Graph) {
			x := feed(s, g, "x", arange(f, 2, 3))
			sh := feed(s, g, "shape", i32(4, 2))
			g.Fetches = []tfops.Output{tfops.Reshape(s, x, sh)}
		}),
		exact("ExpandDims/int32", "ExpandDims", "at the front, the back and a negative axis", func(s *tfops.Scope, g *Graph) {
			x := feed(s, g, "x", arange(tfops.Int32, 2, 3))
			g.Fetches = []tfops.Output{
				tfops.ExpandDims(s, x, tfops.Scalar(s, tfops.Int32, 0)),
				tfops.ExpandDims(s, x, tfops.Scalar(s, tfops.Int32, 2)),
				tfops.ExpandDims(s, x, tfops.Scalar(s, tfops.Int64, -2)),
			}
			g.Want = []*tfops.Tensor{arange(tfops.Int32, 1, 2, 3), arange(tfops.Int32, 2, 3, 1), arange(tfops.Int32, 2, 1, 3)}
		}),
		exact("Squeeze/float32", "Squeeze", "all size-1 dimensions, and listed ones", func(s *tfops.Scope, g *Graph) {
			x := feed(s, g, "x", arange(f, 1, 3, 1, 2))
			g.Fetches = []tfops.Output{tfops.Squeeze(s, x, nil), tfops.Squeeze(s, x, []int{-2})}
			g.Want = []*tfops.Tensor{arange(f, 3, 2), arange(f, 1, 3, 2)}
		}),
		exact("Fill/float32", "Fill", "a (2, 3) tensor of 7 and an empty one", func(s *tfops.Scope, g *Graph) {
			v := feed(s, g, "v", tensorF(f, []int{}, []float64{7}))
			g.Fetches = []tfops.Output{tfops.Fill(s, tfops.Int32s(s, 2, 3), v), tfops.Fill(s, tfops.Int32s(s, 0, 3), v)}
			g.Want = []*tfops.Tensor{tensorF(f, []int{2, 3}, []float64{7, 7, 7, 7, 7, 7}), tensorF(f, []int{0, 3}, nil)}
		}),
		exact("Fill/bool", "Fill", "bools", func(s *tfops.Scope, g *Graph) {
			v := feed(s, g, "v", tensorB([]int{}, []bool{true}))
			g.Fetches = []tfops.Output{tfops.Fill(s, tfops.Int32s(s, 3), v)}
			g.Want = []*tfops.Tensor{tensorB([]int{3}, []bool{true, true, true})}
		}),
	}
	// Pack and Unpack along every axis.
	for axis := -3; axis <= 2; axis++ {
		axis := axis
		cs = append(cs, exact(fmt.Sprintf("Pack/float32/axis%d", axis), "Pack", "stacking three (2, 3) tensors", func(s *tfops.Scope, g *Graph) {
			var ins []tfops.Output
			var ts []*tfops.Tensor
			for k := 0; k < 3; k++ {
				t := tensorF(f, []int{2, 3}, randn(rng(uint64(600+k)), 6, 1))
				ts = append(ts, t)
				ins = append(ins, feed(s, g, fmt.Sprintf("x%d", k), t))
			}
			a := axis
			if a < 0 {
				a += 3
			}
			dims := []int{2, 3}
			dims = append(append(append([]int{}, dims[:a]...), 3), dims[a:]...)
			out := make([]float64, 18)
			for i := range out {
				idx := unravel(i, dims)
				k := idx[a]
				rest := append(append([]int{}, idx[:a]...), idx[a+1:]...)
				out[i] = floats(ts[k])[ravel(rest, []int{2, 3})]
			}
			g.Fetches = []tfops.Output{tfops.Pack(s, ins, axis)}
			g.Want = []*tfops.Tensor{tensorF(f, dims, out)}
		}))
		if axis < -2 || axis > 1 {
			continue
		}
		cs = append(cs, exact(fmt.Sprintf("Unpack/int64/axis%d", axis), "Unpack", "splitting a (2, 3) tensor", func(s *tfops.Scope, g *Graph) {
			x := arange(tfops.Int64, 2, 3)
			a := axis
			if a < 0 {
				a += 2
			}
			n := x.Shape()[a]
			outs := tfops.Unpack(s, feed(s, g, "x", x), n, axis)
			g.Fetches = outs
			for k := 0; k < n; k++ {
				od := []int{x.Shape()[1-a]}
				g.Want = append(g.Want, gatherRef(x, od, func(idx []int) []int {
					if a == 0 {
						return []int{k, idx[0]}
					}
					return []int{idx[0], k}
				}, nil))
			}
		}))
	}
	// ConcatV2.
	cs = append(cs,
		exact("ConcatV2/float32/axis1", "ConcatV2", "(2, 1), (2, 0) and (2, 3) along axis 1", func(s *tfops.Scope, g *Graph) {
			a, b, c := arange(f, 2, 1), arange(f, 2, 0), tensorF(f, []int{2, 3}, []float64{10, 11, 12, 13, 14, 15})
			g.Fetches = []tfops.Output{tfops.ConcatV2(s, []tfops.Output{feed(s, g, "a", a), feed(s, g, "b", b), feed(s, g, "c", c)}, tfops.Scalar(s, tfops.Int32, 1))}
			g.Want = []*tfops.Tensor{tensorF(f, []int{2, 4}, []float64{0, 10, 11, 12, 1, 13, 14, 15})}
		}),
		exact("ConcatV2/int32/axis0", "ConcatV2", "along a negative axis 0", func(s *tfops.Scope, g *Graph) {
			a, b := arange(tfops.Int32, 1, 2), arange(tfops.Int32, 2, 2)
			g.Fetches = []tfops.Output{tfops.ConcatV2(s, []tfops.Output{feed(s, g, "a", a), feed(s, g, "b", b)}, tfops.Scalar(s, tfops.Int64, -2))}
			g.Want = []*tfops.Tensor{tensorI(tfops.Int32, []int{3, 2}, []int64{0, 1, 0, 1, 2, 3})}
		}),
		failing("ConcatV2/float32/mismatch", "ConcatV2", "inputs whose other dimensions differ", func(s *tfops.Scope, g *Graph) {
			a, b := arange(f, 2, 2), arange(f, 3, 3)
			g.Fetches = []tfops.Output{tfops.ConcatV2(s, []tfops.Output{feedUnknown(s, g, "a", a), feedUnknown(s, g, "b", b)}, tfops.Scalar(s, tfops.Int32, 0))}
		}),
	)
	cs = append(cs, stridedSliceCases()...)
	cs = append(cs,
		exact("Slice/float32", "Slice", "with size -1 and an empty size", func(s *tfops.Scope, g *Graph) {
			x := arange(f, 4, 5)
			xo := feed(s, g, "x", x)
			g.Fetches = []tfops.Output{
				tfops.Slice(s, xo, tfops.Int32s(s, 1, 2), tfops.Int32s(s, 2, -1)),
				tfops.Slice(s, xo, tfops.Int32s(s, 4, 0), tfops.Int32s(s, 0, 5)),
			}
			g.Want = []*tfops.Tensor{
				gatherRef(x, []int{2, 3}, func(i []int) []int { return []int{i[0] + 1, i[1] + 2} }, nil),
				tensorF(f, []int{0, 5}, nil),
			}
		}),
		failing("Slice/float32/out-of-range", "Slice", "a slice past the end", func(s *tfops.Scope, g *Graph) {
			xo := feedUnknown(s, g, "x", arange(f, 4))
			b := feed(s, g, "b", i32(3))
			g.Fetches = []tfops.Output{tfops.Slice(s, xo, b, tfops.Int32s(s, 2))}
		}),
		exact("Range/int32", "Range", "up, down, empty", func(s *tfops.Scope, g *Graph) {
			sc := func(v int64) tfops.Output {
				return feed(s, g, fmt.Sprintf("v%d_%d", v, len(g.Feeds)), tensorI(tfops.Int32, []int{}, []int64{v}))
			}
			g.Fetches = []tfops.Output{tfops.Range(s, sc(1), sc(10), sc(3)), tfops.Range(s, sc(5), sc(-4), sc(-2)), tfops.Range(s, sc(2), sc(2), sc(1))}
			g.Want = []*tfops.Tensor{i32(1, 4, 7), i32(5, 3, 1, -1, -3), i32()}
		}),
		Case{Name: "Range/float32", Op: "Range", Description: "fractional steps, accumulated as TensorFlow does", Build: func(s *tfops.Scope) Graph {
			var g Graph
			sc := func(n string, v float64) tfops.Output { return feed(s, &g, n, tensorF(f, []int{}, []float64{v})) }
			g.Fetches = []tfops.Output{tfops.Range(s, sc("a", 0.5), sc("b", 2.2), sc("c", 0.3))}
			v := []float64{}
			acc := float32(0.5)
			for i := 0; i < 6; i++ {
				v = append(v, float64(acc))
				acc += 0.3
			}
			g.Want = []*tfops.Tensor{tensorF(f, []int{6}, v)}
			g.Tol = Elementwise
			return g
		}},
		failing("Range/int32/bad-delta", "Range", "a delta pointing away from the limit", func(s *tfops.Scope, g *Graph) {
			sc := func(n string, v int64) tfops.Output { return feed(s, g, n, tensorI(tfops.Int32, []int{}, []int64{v})) }
			g.Fetches = []tfops.Output{tfops.Range(s, sc("a", 5), sc("b", 1), sc("c", 1))}
		}),
		exact("Tile/float32", "Tile", "multiples (2, 1, 3), and a zero multiple", func(s *tfops.Scope, g *Graph) {
			x := arange(f, 2, 3, 2)
			xo := feed(s, g, "x", x)
			g.Fetches = []tfops.Output{tfops.Tile(s, xo, tfops.Int32s(s, 2, 1, 3)), tfops.Tile(s, xo, tfops.Int32s(s, 1, 0, 1))}
			g.Want = []*tfops.Tensor{
				gatherRef(x, []int{4, 3, 6}, func(i []int) []int { return []int{i[0] % 2, i[1] % 3, i[2] % 2} }, nil),
				tensorF(f, []int{2, 0, 2}, nil),
			}
		}),
		exact("Tile/bool", "Tile", "bools", func(s *tfops.Scope, g *Graph) {
			x := tensorB([]int{2}, []bool{true, false})
			g.Fetches = []tfops.Output{tfops.Tile(s, feed(s, g, "x", x), tfops.Int32s(s, 3))}
			g.Want = []*tfops.Tensor{tensorB([]int{6}, []bool{true, false, true, false, true, false})}
		}),
	)
	for _, perm := range [][]int64{{1, 0}, {0, 2, 1}, {2, 0, 1}, {3, 1, 0, 2}, {0, 1, 2, 3}} {
		perm := perm
		cs = append(cs, exact(fmt.Sprintf("Transpose/float32/perm%v", perm), "Transpose", "permuting dimensions", func(s *tfops.Scope, g *Graph) {
			dims := []int{2, 3, 4, 5}[:len(perm)]
			x := tensorF(f, dims, randn(rng(700), numElems(dims), 1))
			od := make([]int, len(perm))
			for i, p := range perm {
				od[i] = dims[p]
			}
			g.Fetches = []tfops.Output{tfops.Transpose(s, feed(s, g, "x", x), tfops.Const(s, i32(perm...)))}
			g.Want = []*tfops.Tensor{gatherRef(x, od, func(i []int) []int {
				j := make([]int, len(i))
				for k, p := range perm {
					j[p] = i[k]
				}
				return j
			}, nil)}
		}))
	}
	cs = append(cs,
		exact("Transpose/int32/large", "Transpose", "a (300, 257) matrix, several threads", func(s *tfops.Scope, g *Graph) {
			x := arange(tfops.Int32, 300, 257)
			g.Fetches = []tfops.Output{tfops.Transpose(s, feed(s, g, "x", x), tfops.Int32s(s, 1, 0))}
			g.Want = []*tfops.Tensor{gatherRef(x, []int{257, 300}, func(i []int) []int { return []int{i[1], i[0]} }, nil)}
		}),
		exact("BroadcastTo/float32", "BroadcastTo", "(3, 1) to (2, 3, 4), a scalar to (2, 2)", func(s *tfops.Scope, g *Graph) {
			x := arange(f, 3, 1)
			y := tensorF(f, []int{}, []float64{5})
			g.Fetches = []tfops.Output{
				tfops.BroadcastTo(s, feed(s, g, "x", x), tfops.Int32s(s, 2, 3, 4)),
				tfops.BroadcastTo(s, feed(s, g, "y", y), tfops.Const(s, tensorI(tfops.Int64, []int{2}, []int64{2, 2}))),
			}
			g.Want = []*tfops.Tensor{
				gatherRef(x, []int{2, 3, 4}, func(i []int) []int { return []int{i[1], 0} }, nil),
				tensorF(f, []int{2, 2}, []float64{5, 5, 5, 5}),
			}
		}),
		failing("BroadcastTo/float32/incompatible", "BroadcastTo", "(3,) to (2, 4)", func(s *tfops.Scope, g *Graph) {
			x := feedUnknown(s, g, "x", arange(f, 3))
			sh := feed(s, g, "shape", i32(2, 4))
			g.Fetches = []tfops.Output{tfops.BroadcastTo(s, x, sh)}
		}),
		exact("Pad/float32", "Pad", "zeros before and after each dimension", func(s *tfops.Scope, g *Graph) {
			x := tensorF(f, []int{2, 3}, []float64{1, 2, 3, 4, 5, 6})
			p := tfops.Const(s, tfops.MustFromSlice([]int32{1, 0, 2, 1}, 2, 2))
			g.Fetches = []tfops.Output{tfops.Pad(s, feed(s, g, "x", x), p)}
			g.Want = []*tfops.Tensor{gatherRef(x, []int{3, 6}, func(i []int) []int {
				r, c := i[0]-1, i[1]-2
				if r < 0 || c < 0 || c >= 3 {
					return nil
				}
				return []int{r, c}
			}, float32(0))}
		}),
	)
	cs = append(cs, gatherCases()...)
	return cs
}
