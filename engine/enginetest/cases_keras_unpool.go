package enginetest

import (
	"fmt"

	"github.com/tfseg/tfseg/tfops"
)

// MaxPoolWithArgmax and ScatterNd (SegNet-style max unpooling) against
// loops: the first maximum of each window in row-major order (a later
// element replaces it only when strictly greater) and its flat index.
func unpoolCases() []Case {
	f := tfops.Float
	var cs []Case
	poolRef := func(x *tfops.Tensor, k, s int, pad string, withBatch bool) (*tfops.Tensor, *tfops.Tensor) {
		xs := x.Shape()
		wh, ww := refWindow(xs[1], k, s, 1, pad), refWindow(xs[2], k, s, 1, pad)
		dims := []int{xs[0], wh.out, ww.out, xs[3]}
		xv := floats(x)
		vals, idx := make([]float64, numElems(dims)), make([]int64, numElems(dims))
		for i := range vals {
			o := unravel(i, dims)
			at := -1
			for a := 0; a < k; a++ {
				for b := 0; b < k; b++ {
					y, z := o[1]*s+a-wh.pad, o[2]*s+b-ww.pad
					if y < 0 || y >= xs[1] || z < 0 || z >= xs[2] {
						continue
					}
					j := ravel([]int{o[0], y, z, o[3]}, xs)
					if at < 0 || xv[at] < xv[j] {
						at = j
					}
				}
			}
			vals[i] = xv[at]
			idx[i] = int64(at)
			if !withBatch {
				idx[i] = int64(at % (xs[1] * xs[2] * xs[3]))
			}
		}
		return tensorF(x.DType(), dims, vals), tensorI(tfops.Int64, dims, idx)
	}
	for _, sc := range []struct {
		name      string
		dims      []int
		k, s      int
		pad       string
		withBatch bool
	}{{"2x2-ties", []int{2, 4, 6, 3}, 2, 2, "VALID", false}, {"2x2-batch-index", []int{2, 4, 4, 2}, 2, 2, "VALID", true},
		{"3x3-same-stride2", []int{1, 5, 5, 2}, 3, 2, "SAME", false}} {
		sc := sc
		cs = append(cs, exact("MaxPoolWithArgmax/float32/"+sc.name, "MaxPoolWithArgmax", "pooled values and their flat indices (ties: the first in the window)", func(s *tfops.Scope, g *Graph) {
			iv := randi(rng(118), numElems(sc.dims), -2, 3) // many ties
			v := make([]float64, len(iv))
			for i, e := range iv {
				v[i] = float64(e)
			}
			xt := tensorF(f, sc.dims, v)
			attrs := nhwcAttrs(f, sc.s, 1, sc.pad)
			delete(attrs, "dilations")
			delete(attrs, "data_format")
			attrs["ksize"] = []int64{1, int64(sc.k), int64(sc.k), 1}
			attrs["Targmax"] = tfops.Int64
			attrs["include_batch_in_index"] = sc.withBatch
			g.Fetches = outputs(addOp(s, "MaxPoolWithArgmax", []any{feed(s, g, "x", xt)}, attrs, f, tfops.Int64))
			vals, idx := poolRef(xt, sc.k, sc.s, sc.pad, sc.withBatch)
			g.Want = []*tfops.Tensor{vals, idx}
		}))
	}
	// ScatterNd: rows and elements, repeated indices summing in order.
	for _, sc := range []struct {
		name    string
		idims   []int
		indices []int64
		shape   []int
	}{{"elements-repeated", []int{5, 2}, []int64{0, 1, 2, 3, 0, 1, 1, 0, 2, 3}, []int{3, 4}},
		{"rows", []int{2, 1}, []int64{2, 0}, []int{4, 3}},
		{"flat-unpool", []int{6, 1}, []int64{7, 0, 3, 11, 3, 5}, []int{12}}} {
		for _, d := range []tfops.DType{f, tfops.Int32} {
			sc, d := sc, d
			cs = append(cs, Case{Name: fmt.Sprintf("ScatterNd/%v/%s", d, sc.name), Op: "ScatterNd", Description: "updates added into zeros at index tuples",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					k := sc.idims[len(sc.idims)-1]
					lead := sc.idims[:len(sc.idims)-1]
					udims := append(append([]int{}, lead...), sc.shape[k:]...)
					var ut *tfops.Tensor
					if d == tfops.Int32 {
						ut = tensorI(d, udims, randi(rng(119), numElems(udims), -50, 50))
					} else {
						ut = tensorF(d, udims, randn(rng(119), numElems(udims), 1))
					}
					it := tensorI(tfops.Int32, sc.idims, sc.indices)
					g.Fetches = outputs(addOp(s, "ScatterNd", []any{feed(s, &g, "i", it), feed(s, &g, "u", ut), tfops.Const(s, i32(ints64(sc.shape)...))},
						map[string]any{"T": d, "Tindices": tfops.Int32}, d))
					acc := make([]float64, numElems(sc.shape))
					inner := numElems(sc.shape[k:])
					uv := floats(ut)
					for i := 0; i < numElems(lead); i++ {
						pos := make([]int, len(sc.shape))
						for j := 0; j < k; j++ {
							pos[j] = int(sc.indices[i*k+j])
						}
						base := ravel(pos, sc.shape)
						for j := 0; j < inner; j++ {
							acc[base+j] = roundTo(d, acc[base+j]+uv[i*inner+j])
						}
					}
					if d == tfops.Int32 {
						iv := make([]int64, len(acc))
						for i, v := range acc {
							iv[i] = int64(v)
						}
						g.Want = []*tfops.Tensor{tensorI(d, sc.shape, iv)}
					} else {
						g.Want = []*tfops.Tensor{tensorF(d, sc.shape, acc)}
					}
					return g
				}})
		}
	}
	cs = append(cs, failing("ScatterNd/float32/out-of-range", "ScatterNd", "an index outside shape (an error on the CPU)", func(s *tfops.Scope, g *Graph) {
		g.Fetches = outputs(addOp(s, "ScatterNd", []any{feed(s, g, "i", tensorI(tfops.Int32, []int{2, 1}, []int64{1, 4})), feed(s, g, "u", arange(f, 2)), tfops.Const(s, i32(4))},
			map[string]any{"T": f, "Tindices": tfops.Int32}, f))
	}))
	return cs
}
