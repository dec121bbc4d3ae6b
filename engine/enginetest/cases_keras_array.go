package enginetest

import (
	"fmt"
	"strings"

	"github.com/tfseg/tfseg/tfops"
)

// addOp adds a node of type typ with outputs of the given static types
// (unknown shapes) and returns the op (nil after a scope error).
func addOp(s *tfops.Scope, typ string, inputs []any, attrs map[string]any, outs ...tfops.DType) *tfops.Operation {
	info := make([]tfops.OutputInfo, len(outs))
	for i, d := range outs {
		info[i] = tfops.OutputInfo{DType: d, Shape: tfops.UnknownShape()}
	}
	return s.AddOp(tfops.OpSpec{Type: typ, Inputs: inputs, Attrs: attrs, Outputs: info})
}

// outputs lists the outputs of op (none when op is nil).
func outputs(op *tfops.Operation) []tfops.Output {
	if op == nil {
		return []tfops.Output{{}}
	}
	out := make([]tfops.Output, op.NumOutputs())
	for i := range out {
		out[i] = op.Output(i)
	}
	return out
}

// boxRef is x[begin : begin+size] along each axis.
func boxRef(x *tfops.Tensor, begin, size []int) *tfops.Tensor {
	return gatherRef(x, size, func(idx []int) []int {
		j := make([]int, len(idx))
		for d := range idx {
			j[d] = idx[d] + begin[d]
		}
		return j
	}, nil)
}

// splitRef cuts x along axis into pieces of the given sizes.
func splitRef(x *tfops.Tensor, axis int, sizes []int) []*tfops.Tensor {
	var out []*tfops.Tensor
	off := 0
	for _, n := range sizes {
		begin := make([]int, x.Rank())
		size := append([]int{}, x.Shape()...)
		begin[axis], size[axis] = off, n
		out = append(out, boxRef(x, begin, size))
		off += n
	}
	return out
}

// einsumRef evaluates a letters-only einsum equation in float64 by looping
// over every assignment of the labels; an operand dimension of size 1
// under a label of larger size broadcasts.
func einsumRef(eq string, d tfops.DType, xs ...*tfops.Tensor) *tfops.Tensor {
	lhs, out, _ := strings.Cut(eq, "->")
	subs := strings.Split(lhs, ",")
	size := map[rune]int{}
	var labels []rune
	for i, sub := range subs {
		for ax, l := range sub {
			if _, ok := size[l]; !ok {
				labels = append(labels, l)
			}
			size[l] = max(size[l], xs[i].Shape()[ax])
		}
	}
	dims := make([]int, len(labels))
	pos := map[rune]int{}
	for i, l := range labels {
		dims[i], pos[l] = size[l], i
	}
	odims := make([]int, 0, len(out))
	for _, l := range out {
		odims = append(odims, size[l])
	}
	vals := make([][]float64, len(xs))
	for i, x := range xs {
		vals[i] = floats(x)
	}
	acc := make([]float64, numElems(odims))
	for k := 0; k < numElems(dims); k++ {
		idx := unravel(k, dims)
		p := 1.0
		for i, sub := range subs {
			xi := make([]int, 0, len(sub))
			for ax, l := range sub {
				v := idx[pos[l]]
				if xs[i].Shape()[ax] == 1 {
					v = 0
				}
				xi = append(xi, v)
			}
			p *= vals[i][ravel(xi, xs[i].Shape())]
		}
		oi := make([]int, 0, len(out))
		for _, l := range out {
			oi = append(oi, idx[pos[l]])
		}
		acc[ravel(oi, odims)] += p
	}
	return tensorFlushed(d, odims, acc)
}

func kerasArrayCases() []Case {
	f := tfops.Float
	var cs []Case
	// Split and SplitV.
	for _, sc := range []struct {
		name  string
		dims  []int
		axis  int
		sizes []int
		v     bool
	}{{"axis1", []int{2, 6, 3}, 1, []int{2, 2, 2}, false}, {"axis-last", []int{4, 8}, -1, []int{2, 2, 2, 2}, false},
		{"lstm-gates", []int{3, 16}, 1, []int{4, 4, 4, 4}, false}, {"one", []int{2, 3}, 0, []int{2}, false},
		{"v", []int{3, 7}, 1, []int{2, 4, 1}, true}, {"v-inferred", []int{5, 2}, 0, []int{1, -1, 2}, true},
		{"v-empty-piece", []int{2, 4}, 1, []int{0, 4}, true}} {
		sc := sc
		op := "Split"
		if sc.v {
			op = "SplitV"
		}
		cs = append(cs, exact(op+"/float32/"+sc.name, op, "pieces along an axis, bit for bit", func(s *tfops.Scope, g *Graph) {
			xt := tensorF(f, sc.dims, floatInputs(f, 31)[:numElems(sc.dims)])
			x := feed(s, g, "x", xt)
			a := sc.axis
			if a < 0 {
				a += len(sc.dims)
			}
			sizes := append([]int{}, sc.sizes...)
			sum := 0
			for _, n := range sizes {
				sum += max(n, 0)
			}
			for i, n := range sizes {
				if n < 0 {
					sizes[i] = sc.dims[a] - sum
				}
			}
			outs := make([]tfops.DType, len(sizes))
			for i := range outs {
				outs[i] = f
			}
			var o *tfops.Operation
			if sc.v {
				ss := make([]int64, len(sc.sizes))
				for i, n := range sc.sizes {
					ss[i] = int64(n)
				}
				o = addOp(s, "SplitV", []any{x, tfops.Const(s, i32(ss...)), tfops.Scalar(s, tfops.Int32, float64(sc.axis))},
					map[string]any{"T": f, "Tlen": tfops.Int32, "num_split": len(sizes)}, outs...)
			} else {
				o = addOp(s, "Split", []any{tfops.Scalar(s, tfops.Int32, float64(sc.axis)), x},
					map[string]any{"T": f, "num_split": len(sizes)}, outs...)
			}
			g.Fetches = outputs(o)
			g.Want = splitRef(xt, a, sizes)
		}))
	}
	cs = append(cs,
		failing("Split/float32/uneven", "Split", "a dimension num_split does not divide", func(s *tfops.Scope, g *Graph) {
			x := feedUnknown(s, g, "x", arange(f, 2, 5))
			g.Fetches = outputs(addOp(s, "Split", []any{tfops.Scalar(s, tfops.Int32, 1), x}, map[string]any{"T": f, "num_split": 2}, f, f))[:1]
		}),
		failing("SplitV/float32/sizes-exceed", "SplitV", "size_splits summing past the dimension", func(s *tfops.Scope, g *Graph) {
			x := feedUnknown(s, g, "x", arange(f, 2, 5))
			g.Fetches = outputs(addOp(s, "SplitV", []any{x, tfops.Const(s, i32(3, 3)), tfops.Scalar(s, tfops.Int32, 1)},
				map[string]any{"T": f, "Tlen": tfops.Int32, "num_split": 2}, f, f))[:1]
		}),
	)
	// AddN: left-to-right sums in the dtype.
	for _, n := range []int{1, 2, 3, 9} {
		for _, d := range []tfops.DType{tfops.Float, tfops.Double, tfops.Int32} {
			n, d := n, d
			cs = append(cs, Case{Name: fmt.Sprintf("AddN/%v/%d", d, n), Op: "AddN", Description: "sum of n tensors, left to right in the dtype",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					dims := []int{3, 5}
					var in []tfops.Output
					var ts []*tfops.Tensor
					for i := 0; i < n; i++ {
						var t *tfops.Tensor
						if d == tfops.Int32 {
							t = tensorI(d, dims, randi(rng(uint64(40+i)), 15, -1000, 1000))
						} else {
							t = tensorF(d, dims, randn(rng(uint64(40+i)), 15, 1e3))
						}
						ts = append(ts, t)
						in = append(in, feed(s, &g, fmt.Sprintf("x%d", i), t))
					}
					g.Fetches = outputs(addOp(s, "AddN", []any{in}, map[string]any{"T": d, "N": n}, d))
					acc := make([]float64, 15)
					for k := range acc {
						for i, t := range ts {
							if i == 0 {
								acc[k] = floats(t)[k]
							} else {
								acc[k] = roundTo(d, acc[k]+floats(t)[k])
							}
						}
					}
					if d == tfops.Int32 {
						iv := make([]int64, len(acc))
						for k, v := range acc {
							iv[k] = int64(v)
						}
						g.Want = []*tfops.Tensor{tensorI(d, dims, iv)}
					} else {
						g.Want = []*tfops.Tensor{tensorF(d, dims, acc)}
					}
					return g
				}})
		}
	}
	cs = append(cs, failing("AddN/float32/shapes-differ", "AddN", "inputs of different shapes", func(s *tfops.Scope, g *Graph) {
		a, b := feedUnknown(s, g, "a", arange(f, 2, 3)), feedUnknown(s, g, "b", arange(f, 3, 2))
		g.Fetches = outputs(addOp(s, "AddN", []any{[]tfops.Output{a, b}}, map[string]any{"T": f, "N": 2}, f))
	}))
	// GatherNd.
	for _, sc := range []struct {
		name    string
		pdims   []int
		idims   []int
		indices []int64
	}{{"elements", []int{3, 4}, []int{5, 2}, []int64{0, 0, 2, 3, 1, 2, 2, 0, 0, 3}},
		{"rows", []int{3, 4, 2}, []int{2, 1}, []int64{2, 0}},
		{"batched-slices", []int{2, 3, 4}, []int{2, 2, 2}, []int64{0, 1, 1, 2, 1, 0, 0, 0}},
		{"full-index-rank3", []int{2, 3, 4}, []int{3}, []int64{1, 2, 3}},
		{"empty-index", []int{2, 3}, []int{4, 0}, nil}} {
		for _, it := range []tfops.DType{tfops.Int32, tfops.Int64} {
			sc, it := sc, it
			cs = append(cs, exact(fmt.Sprintf("GatherNd/float32/%s/%v", sc.name, it), "GatherNd", "slices of params at index tuples", func(s *tfops.Scope, g *Graph) {
				pt := arange(f, sc.pdims...)
				it := tensorI(it, sc.idims, sc.indices)
				k := sc.idims[len(sc.idims)-1]
				lead := sc.idims[:len(sc.idims)-1]
				dims := append(append([]int{}, lead...), sc.pdims[k:]...)
				g.Want = []*tfops.Tensor{gatherRef(pt, dims, func(idx []int) []int {
					j := make([]int, 0, len(sc.pdims))
					base := ravel(idx[:len(lead)], lead) * k
					for d := 0; d < k; d++ {
						j = append(j, int(sc.indices[base+d]))
					}
					return append(j, idx[len(lead):]...)
				}, nil)}
				g.Fetches = outputs(addOp(s, "GatherNd", []any{feed(s, g, "params", pt), feed(s, g, "indices", it)},
					map[string]any{"Tparams": f, "Tindices": it.DType()}, f))
			}))
		}
	}
	cs = append(cs, failing("GatherNd/float32/out-of-range", "GatherNd", "an index past the dimension (an error on the CPU)", func(s *tfops.Scope, g *Graph) {
		p, i := feed(s, g, "params", arange(f, 3, 4)), feed(s, g, "indices", tensorI(tfops.Int32, []int{2, 2}, []int64{0, 1, 3, 0}))
		g.Fetches = outputs(addOp(s, "GatherNd", []any{p, i}, map[string]any{"Tparams": f, "Tindices": tfops.Int32}, f))
	}))
	// ResourceGather: a variable assigned in the same run, then gathered
	// (tf.keras 2.x Embedding).
	resGather := func(name string, vdims []int, idims []int, idx []int64, bd int, want func(vt *tfops.Tensor) *tfops.Tensor) Case {
		build := func(s *tfops.Scope, g *Graph) {
			vt := tensorF(f, vdims, randn(rng(77), numElems(vdims), 1))
			h := s.AddOp(tfops.OpSpec{Type: "VarHandleOp", Name: "emb", Attrs: map[string]any{"dtype": f, "shape": tfops.ShapeOf(vdims), "shared_name": "emb", "container": ""},
				Outputs: []tfops.OutputInfo{{DType: tfops.Resource, Shape: tfops.MakeShape()}}})
			if h == nil {
				return
			}
			asg := s.AddOp(tfops.OpSpec{Type: "AssignVariableOp", Name: "assign", Inputs: []any{h.Output(0), feed(s, g, "value", vt)}, Attrs: map[string]any{"dtype": f}})
			it := tensorI(tfops.Int32, idims, idx)
			o := s.WithControlDependencies(asg).AddOp(tfops.OpSpec{Type: "ResourceGather", Inputs: []any{h.Output(0), feed(s, g, "ids", it)},
				Attrs:   map[string]any{"dtype": f, "Tindices": tfops.Int32, "batch_dims": bd, "validate_indices": true},
				Outputs: []tfops.OutputInfo{{DType: f, Shape: tfops.UnknownShape()}}})
			g.Fetches = outputs(o)
			if want != nil {
				g.Want = []*tfops.Tensor{want(vt)}
			}
		}
		if want == nil {
			return failing("ResourceGather/float32/"+name, "ResourceGather", "an index past the vocabulary (an error on the CPU)", build)
		}
		return exact("ResourceGather/float32/"+name, "ResourceGather", "rows of a variable (Keras Embedding)", build)
	}
	cs = append(cs,
		resGather("embedding", []int{6, 3}, []int{2, 4}, []int64{0, 5, 2, 2, 1, 0, 3, 4}, 0, func(vt *tfops.Tensor) *tfops.Tensor {
			ids := []int{0, 5, 2, 2, 1, 0, 3, 4}
			return gatherRef(vt, []int{2, 4, 3}, func(idx []int) []int { return []int{ids[idx[0]*4+idx[1]], idx[2]} }, nil)
		}),
		resGather("batch-dims", []int{2, 4, 3}, []int{2, 2}, []int64{3, 0, 1, 1}, 1, func(vt *tfops.Tensor) *tfops.Tensor {
			ids := []int{3, 0, 1, 1}
			return gatherRef(vt, []int{2, 2, 3}, func(idx []int) []int { return []int{idx[0], ids[idx[0]*2+idx[1]], idx[2]} }, nil)
		}),
		resGather("out-of-range", []int{6, 3}, []int{2}, []int64{1, 6}, 0, nil),
	)
	// ConcatOffset and InvertPermutation (gradient functions of saved
	// models).
	cs = append(cs,
		exact("ConcatOffset/int32", "ConcatOffset", "offsets of three shapes along axis 1", func(s *tfops.Scope, g *Graph) {
			sh := []tfops.Output{tfops.Const(s, i32(2, 3, 5)), tfops.Const(s, i32(2, 1, 5)), tfops.Const(s, i32(2, 4, 5))}
			o := addOp(s, "ConcatOffset", []any{feed(s, g, "dim", tensorI(tfops.Int32, []int{}, []int64{1})), sh}, map[string]any{"N": 3}, tfops.Int32, tfops.Int32, tfops.Int32)
			g.Fetches = outputs(o)
			g.Want = []*tfops.Tensor{i32(0, 0, 0), i32(0, 3, 0), i32(0, 4, 0)}
		}),
		exact("InvertPermutation/int32", "InvertPermutation", "y[x[i]] = i", func(s *tfops.Scope, g *Graph) {
			g.Fetches = outputs(addOp(s, "InvertPermutation", []any{feed(s, g, "x", i32(2, 0, 3, 1))}, map[string]any{"T": tfops.Int32}, tfops.Int32))
			g.Want = []*tfops.Tensor{i32(1, 3, 0, 2)}
		}),
		failing("InvertPermutation/int32/not-a-permutation", "InvertPermutation", "a repeated entry", func(s *tfops.Scope, g *Graph) {
			g.Fetches = outputs(addOp(s, "InvertPermutation", []any{feed(s, g, "x", i32(0, 0, 1))}, map[string]any{"T": tfops.Int32}, tfops.Int32))
		}),
	)
	return append(cs, einsumCases()...)
}

// einsumCases are the equations Keras EinsumDense and MultiHeadAttention
// write, transposes, traces, reductions and ellipses with broadcasting.
func einsumCases() []Case {
	var cs []Case
	for _, sc := range []struct {
		name, eq, ref string
		dims          [][]int
		d             tfops.DType
	}{
		{"einsumdense", "abc,cd->abd", "", [][]int{{2, 3, 4}, {4, 5}}, tfops.Float},
		{"einsumdense-f64", "abc,cd->abd", "", [][]int{{2, 3, 4}, {4, 5}}, tfops.Double},
		{"mha-query", "abc,cde->abde", "", [][]int{{2, 3, 4}, {4, 2, 3}}, tfops.Float},
		{"mha-scores", "aecd,abcd->acbe", "", [][]int{{2, 5, 3, 4}, {2, 6, 3, 4}}, tfops.Float},
		{"mha-combine", "acbe,aecd->abcd", "", [][]int{{2, 3, 6, 5}, {2, 5, 3, 4}}, tfops.Float},
		{"mha-output", "abcd,cde->abe", "", [][]int{{2, 6, 3, 4}, {3, 4, 5}}, tfops.Float},
		{"batch-matmul", "bij,bjk->bik", "", [][]int{{3, 4, 5}, {3, 5, 2}}, tfops.Float},
		{"outer", "i,j->ij", "", [][]int{{3}, {4}}, tfops.Float},
		{"dot", "i,i->", "", [][]int{{7}, {7}}, tfops.Float},
		{"reduce-other", "ij,jk->i", "", [][]int{{3, 4}, {4, 5}}, tfops.Float},
		{"transpose", "ijk->kji", "", [][]int{{2, 3, 4}}, tfops.Float},
		{"sum", "ij->", "", [][]int{{3, 4}}, tfops.Float},
		{"trace", "ii->", "", [][]int{{4, 4}}, tfops.Float},
		{"diagonal", "ii->i", "", [][]int{{4, 4}}, tfops.Float},
		{"ellipsis-dense", "...b,bc->...c", "xyb,bc->xyc", [][]int{{2, 3, 4}, {4, 5}}, tfops.Float},
		{"ellipsis-broadcast", "...ij,...jk->...ik", "xyij,yjk->xyik", [][]int{{2, 1, 3, 4}, {5, 4, 2}}, tfops.Float},
		{"ellipsis-middle", "b...d,d->b...", "bxyd,d->bxy", [][]int{{2, 3, 2, 4}, {4}}, tfops.Float},
	} {
		sc := sc
		cs = append(cs, Case{Name: "Einsum/" + sc.d.String() + "/" + sc.name, Op: "Einsum",
			Description: "equation " + sc.eq,
			Build: func(s *tfops.Scope) Graph {
				var g Graph
				var in []tfops.Output
				var ts []*tfops.Tensor
				for i, dims := range sc.dims {
					t := tensorF(sc.d, dims, randn(rng(uint64(60+i)), numElems(dims), 1))
					ts = append(ts, t)
					in = append(in, feed(s, &g, fmt.Sprintf("x%d", i), t))
				}
				ref := sc.ref
				if ref == "" {
					ref = sc.eq
				}
				g.Fetches = outputs(addOp(s, "Einsum", []any{in}, map[string]any{"T": sc.d, "N": len(in), "equation": sc.eq}, sc.d))
				g.Want = []*tfops.Tensor{einsumRef(ref, sc.d, ts...)}
				g.Tol = Tolerance{ULP: 4, Rel: 1e-5, Abs: 1e-5}
				return g
			}})
	}
	// TensorFlow requires an ellipsis in the output when an operand's
	// ellipsis covers dimensions ("without ellipsis (...) in the output
	// subscripts where input(s) have non-empty broadcasting shape").
	cs = append(cs, failing("Einsum/float32/ellipsis-dropped", "Einsum", "...ij,...jk->ik with a non-empty ellipsis", func(s *tfops.Scope, g *Graph) {
		a, b := feedUnknown(s, g, "a", arange(tfops.Float, 3, 2, 4)), feedUnknown(s, g, "b", arange(tfops.Float, 3, 4, 2))
		g.Fetches = outputs(addOp(s, "Einsum", []any{[]tfops.Output{a, b}}, map[string]any{"T": tfops.Float, "N": 2, "equation": "...ij,...jk->ik"}, tfops.Float))
	}))
	cs = append(cs, failing("Einsum/float32/mismatched-label", "Einsum", "label b of size 4 in one operand, 3 in the other", func(s *tfops.Scope, g *Graph) {
		a, b := feedUnknown(s, g, "a", arange(tfops.Float, 2, 4)), feedUnknown(s, g, "b", arange(tfops.Float, 3, 5))
		g.Fetches = outputs(addOp(s, "Einsum", []any{[]tfops.Output{a, b}}, map[string]any{"T": tfops.Float, "N": 2, "equation": "ab,bc->ac"}, tfops.Float))
	}))
	return cs
}
