package enginetest

import (
	"fmt"

	"github.com/tfseg/tfseg/tfops"
)

// sliceEntry is one entry of a StridedSlice spec, as Python writes it:
// x[b:e:s], x[i] (shrink), x[...], x[tf.newaxis].
type sliceEntry struct {
	b, e, s          int
	noBegin, noEnd   bool
	shrink, ellipsis bool
	newAxis          bool
}

// pyRange is Python's range(*slice(b, e, s).indices(n)).
func pyRange(en sliceEntry, n int) []int {
	s := en.s
	var lo, hi int
	if s > 0 {
		lo, hi = 0, n
	} else {
		lo, hi = -1, n-1
	}
	clamp := func(v int) int {
		if v < 0 {
			v += n
		}
		return max(lo, min(hi, v))
	}
	start, stop := 0, 0
	switch {
	case en.noBegin && s > 0:
		start = 0
	case en.noBegin:
		start = n - 1
	default:
		start = clamp(en.b)
	}
	switch {
	case en.noEnd && s > 0:
		stop = n
	case en.noEnd:
		stop = -1
	default:
		stop = clamp(en.e)
	}
	var out []int
	for i := start; (s > 0 && i < stop) || (s < 0 && i > stop); i += s {
		out = append(out, i)
	}
	return out
}

// sliceRef applies a Python-style index expression to x.
func sliceRef(x *tfops.Tensor, spec []sliceEntry) *tfops.Tensor {
	dims := x.Shape()
	consumed := 0
	hasEllipsis := false
	for _, en := range spec {
		switch {
		case en.ellipsis:
			hasEllipsis = true
		case !en.newAxis:
			consumed++
		}
	}
	if !hasEllipsis {
		spec = append(append([]sliceEntry{}, spec...), sliceEntry{ellipsis: true})
	}
	// axes: per output dimension, the input dimension it walks (-1 for a
	// new axis) and the indices it takes; fixed: shrunk input dimensions.
	type axis struct {
		in  int
		idx []int
	}
	var axes []axis
	fixed := map[int]int{}
	d := 0
	for _, en := range spec {
		switch {
		case en.ellipsis:
			for k := 0; k < len(dims)-consumed; k++ {
				axes = append(axes, axis{d, pyRange(sliceEntry{s: 1, noBegin: true, noEnd: true}, dims[d])})
				d++
			}
		case en.newAxis:
			axes = append(axes, axis{-1, []int{0}})
		case en.shrink:
			i := en.b
			if i < 0 {
				i += dims[d]
			}
			fixed[d] = i
			d++
		default:
			axes = append(axes, axis{d, pyRange(en, dims[d])})
			d++
		}
	}
	od := make([]int, len(axes))
	for i, a := range axes {
		od[i] = len(a.idx)
	}
	return gatherRef(x, od, func(oi []int) []int {
		ii := make([]int, len(dims))
		for d, v := range fixed {
			ii[d] = v
		}
		for k, a := range axes {
			if a.in >= 0 {
				ii[a.in] = a.idx[oi[k]]
			}
		}
		return ii
	}, nil)
}

// stridedSliceOf builds the StridedSlice of spec in tfops terms.
func stridedSliceOf(s *tfops.Scope, x tfops.Output, spec []sliceEntry) tfops.Output {
	var b, e, st []int32
	var m tfops.StridedSliceMasks
	for i, en := range spec {
		bit := int64(1) << i
		bv, ev, sv := int32(en.b), int32(en.e), int32(en.s)
		switch {
		case en.ellipsis:
			m.Ellipsis |= bit
			bv, ev, sv = 0, 0, 1
		case en.newAxis:
			m.NewAxis |= bit
			bv, ev, sv = 0, 0, 1
		case en.shrink:
			m.ShrinkAxis |= bit
			ev, sv = bv+1, 1
		}
		if en.noBegin {
			m.Begin |= bit
			bv = 12345 // ignored
		}
		if en.noEnd {
			m.End |= bit
			ev = -9876 // ignored
		}
		b, e, st = append(b, bv), append(e, ev), append(st, sv)
	}
	return tfops.StridedSlice(s, x, tfops.Int32s(s, b...), tfops.Int32s(s, e...), tfops.Int32s(s, st...), m)
}

func stridedSliceCases() []Case {
	all := sliceEntry{s: 1, noBegin: true, noEnd: true}
	el := sliceEntry{ellipsis: true}
	na := sliceEntry{newAxis: true}
	at := func(i int) sliceEntry { return sliceEntry{b: i, shrink: true} }
	sl := func(b, e, s int) sliceEntry { return sliceEntry{b: b, e: e, s: s} }
	cases := []struct {
		name string
		dims []int
		spec []sliceEntry
	}{
		{"x[1:7:2,:]", []int{10, 8}, []sliceEntry{sl(1, 7, 2), all}},
		{"x[::-1]", []int{10}, []sliceEntry{{s: -1, noBegin: true, noEnd: true}}},
		{"x[8:2:-3]", []int{10}, []sliceEntry{sl(8, 2, -3)}},
		{"x[-100:100]", []int{10}, []sliceEntry{sl(-100, 100, 1)}},
		{"x[100:-100:-1]", []int{10}, []sliceEntry{sl(100, -100, -1)}},
		{"x[5:2]", []int{10}, []sliceEntry{sl(5, 2, 1)}},
		{"x[...,newaxis,-1]", []int{2, 3, 4}, []sliceEntry{el, na, at(-1)}},
		{"x[1,...,::2]", []int{3, 4, 5}, []sliceEntry{at(1), el, {s: 2, noBegin: true, noEnd: true}}},
		{"x[newaxis,:,0]", []int{3, 4}, []sliceEntry{na, all, at(0)}},
		{"x[:,-1]", []int{3, 4}, []sliceEntry{all, at(-1)}},
		{"x[...,::-2]", []int{3, 5}, []sliceEntry{el, {s: -2, noBegin: true, noEnd: true}}},
		{"x[newaxis,...,newaxis]", []int{2, 3}, []sliceEntry{na, el, na}},
		{"x[1:,newaxis]", []int{4, 2, 3}, []sliceEntry{{b: 1, s: 1, noEnd: true}, na}},
		{"x[:-1:3,2:0:-1,1]", []int{7, 4, 3}, []sliceEntry{{e: -1, s: 3, noBegin: true}, sl(2, 0, -1), at(1)}},
		{"x[2]", []int{4}, []sliceEntry{at(2)}},
		{"x[:,:0]", []int{0, 3}, []sliceEntry{all, sl(0, 0, 1)}},
	}
	var cs []Case
	for _, c := range cases {
		c := c
		cs = append(cs, exact("StridedSlice/float32/"+c.name, "StridedSlice", fmt.Sprintf("%s on shape %v", c.name, c.dims), func(s *tfops.Scope, g *Graph) {
			x := tensorF(tfops.Float, c.dims, randn(rng(800), numElems(c.dims), 1))
			g.Fetches = []tfops.Output{stridedSliceOf(s, feedUnknown(s, g, "x", x), c.spec)}
			g.Want = []*tfops.Tensor{sliceRef(x, c.spec)}
		}))
	}
	cs = append(cs,
		exact("StridedSlice/int64/x[::2,1]", "StridedSlice", "int64 data and int64 indices", func(s *tfops.Scope, g *Graph) {
			x := arange(tfops.Int64, 5, 3)
			b := tfops.Const(s, tensorI(tfops.Int64, []int{2}, []int64{0, 1}))
			e := tfops.Const(s, tensorI(tfops.Int64, []int{2}, []int64{0, 2}))
			st := tfops.Const(s, tensorI(tfops.Int64, []int{2}, []int64{2, 1}))
			g.Fetches = []tfops.Output{tfops.StridedSlice(s, feed(s, g, "x", x), b, e, st, tfops.StridedSliceMasks{Begin: 1, End: 1, ShrinkAxis: 2})}
			g.Want = []*tfops.Tensor{tensorI(tfops.Int64, []int{3}, []int64{1, 7, 13})}
		}),
		failing("StridedSlice/float32/shrink-out-of-range", "StridedSlice", "x[5] of a length-3 vector", func(s *tfops.Scope, g *Graph) {
			x := feedUnknown(s, g, "x", arange(tfops.Float, 3))
			g.Fetches = []tfops.Output{stridedSliceOf(s, x, []sliceEntry{at(5)})}
		}),
	)
	return cs
}

func gatherCases() []Case {
	f := tfops.Float
	cs := []Case{
		exact("GatherV2/float32/axis0", "GatherV2", "rows of a matrix with repeated indices of shape (2, 2)", func(s *tfops.Scope, g *Graph) {
			p := arange(f, 5, 3)
			idx := tensorI(tfops.Int32, []int{2, 2}, []int64{4, 0, 0, 2})
			g.Fetches = []tfops.Output{tfops.GatherV2(s, feed(s, g, "p", p), feed(s, g, "i", idx), tfops.Scalar(s, tfops.Int32, 0), 0)}
			iv := ints(idx)
			g.Want = []*tfops.Tensor{gatherRef(p, []int{2, 2, 3}, func(i []int) []int { return []int{int(iv[i[0]*2+i[1]]), i[2]} }, nil)}
		}),
		exact("GatherV2/int32/axis1-int64-indices", "GatherV2", "a middle axis, int64 indices and axis", func(s *tfops.Scope, g *Graph) {
			p := arange(tfops.Int32, 2, 4, 3)
			idx := tensorI(tfops.Int64, []int{3}, []int64{3, 1, 3})
			ax := tfops.Const(s, tensorI(tfops.Int64, []int{}, []int64{-2}))
			g.Fetches = []tfops.Output{tfops.GatherV2(s, feed(s, g, "p", p), feed(s, g, "i", idx), ax, 0)}
			iv := ints(idx)
			g.Want = []*tfops.Tensor{gatherRef(p, []int{2, 3, 3}, func(i []int) []int { return []int{i[0], int(iv[i[1]]), i[2]} }, nil)}
		}),
		exact("GatherV2/float32/scalar-index", "GatherV2", "a scalar index drops the axis", func(s *tfops.Scope, g *Graph) {
			p := arange(f, 3, 4)
			idx := tensorI(tfops.Int32, []int{}, []int64{2})
			g.Fetches = []tfops.Output{tfops.GatherV2(s, feed(s, g, "p", p), feed(s, g, "i", idx), tfops.Scalar(s, tfops.Int32, 1), 0)}
			g.Want = []*tfops.Tensor{gatherRef(p, []int{3}, func(i []int) []int { return []int{i[0], 2} }, nil)}
		}),
		exact("GatherV2/float32/batch-dims", "GatherV2", "batch_dims 1: each batch gathers from its own row", func(s *tfops.Scope, g *Graph) {
			p := arange(f, 2, 5, 2)
			idx := tensorI(tfops.Int32, []int{2, 3}, []int64{0, 4, 4, 1, 1, 3})
			g.Fetches = []tfops.Output{tfops.GatherV2(s, feed(s, g, "p", p), feed(s, g, "i", idx), tfops.Scalar(s, tfops.Int32, 1), 1)}
			iv := ints(idx)
			g.Want = []*tfops.Tensor{gatherRef(p, []int{2, 3, 2}, func(i []int) []int { return []int{i[0], int(iv[i[0]*3+i[1]]), i[2]} }, nil)}
		}),
		exact("GatherV2/float32/empty-indices", "GatherV2", "no indices", func(s *tfops.Scope, g *Graph) {
			p := arange(f, 3, 2)
			idx := tensorI(tfops.Int32, []int{0}, nil)
			g.Fetches = []tfops.Output{tfops.GatherV2(s, feed(s, g, "p", p), feed(s, g, "i", idx), tfops.Scalar(s, tfops.Int32, 0), 0)}
			g.Want = []*tfops.Tensor{tensorF(f, []int{0, 2}, nil)}
		}),
		failing("GatherV2/float32/out-of-range", "GatherV2", "an index past the end", func(s *tfops.Scope, g *Graph) {
			g.Fetches = []tfops.Output{tfops.GatherV2(s, feed(s, g, "p", arange(f, 3, 2)), feed(s, g, "i", i32(0, 3)), tfops.Scalar(s, tfops.Int32, 0), 0)}
		}),
		failing("GatherV2/float32/negative", "GatherV2", "a negative index", func(s *tfops.Scope, g *Graph) {
			g.Fetches = []tfops.Output{tfops.GatherV2(s, feed(s, g, "p", arange(f, 3, 2)), feed(s, g, "i", i32(-1)), tfops.Scalar(s, tfops.Int32, 0), 0)}
		}),
	}
	for _, axis := range []int{-1, 0, 1} {
		for _, d := range []tfops.DType{tfops.Int32, tfops.Int64} {
			axis, d := axis, d
			cs = append(cs, exact(fmt.Sprintf("OneHot/%v/axis%d", d, axis), "OneHot", "indices of shape (2, 3) with some out of range (all-off rows)", func(s *tfops.Scope, g *Graph) {
				idx := tensorI(d, []int{2, 3}, []int64{0, 3, -1, 2, 4, 1})
				on, off := tensorF(f, []int{}, []float64{5}), tensorF(f, []int{}, []float64{-0.5})
				depth := 4
				a := axis
				if a < 0 {
					a = 2
				}
				od := []int{2, 3}
				od = append(append(append([]int{}, od[:a]...), depth), od[a:]...)
				iv := ints(idx)
				out := make([]float64, numElems(od))
				for i := range out {
					oi := unravel(i, od)
					dv := oi[a]
					rest := append(append([]int{}, oi[:a]...), oi[a+1:]...)
					out[i] = -0.5
					if iv[ravel(rest, []int{2, 3})] == int64(dv) {
						out[i] = 5
					}
				}
				g.Fetches = []tfops.Output{tfops.OneHot(s, feed(s, g, "i", idx), tfops.Scalar(s, tfops.Int32, float64(depth)),
					feed(s, g, "on", on), feed(s, g, "off", off), axis)}
				g.Want = []*tfops.Tensor{tensorF(f, od, out)}
			}))
		}
	}
	cs = append(cs, exact("OneHot/int32/int32-values", "OneHot", "integer on/off values, depth 0", func(s *tfops.Scope, g *Graph) {
		idx := i32(1, 0)
		on, off := tensorI(tfops.Int32, []int{}, []int64{1}), tensorI(tfops.Int32, []int{}, []int64{0})
		ono, offo := feed(s, g, "on", on), feed(s, g, "off", off)
		io := feed(s, g, "i", idx)
		g.Fetches = []tfops.Output{
			tfops.OneHot(s, io, tfops.Scalar(s, tfops.Int32, 2), ono, offo, -1),
			tfops.OneHot(s, io, tfops.Scalar(s, tfops.Int32, 0), ono, offo, -1),
		}
		g.Want = []*tfops.Tensor{tensorI(tfops.Int32, []int{2, 2}, []int64{0, 1, 1, 0}), tensorI(tfops.Int32, []int{2, 0}, nil)}
	}))
	return cs
}
