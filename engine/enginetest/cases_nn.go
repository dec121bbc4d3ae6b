package enginetest

import (
	"fmt"
	"math"
	"sort"

	"github.com/tfseg/tfseg/tfops"
)

// softmaxRef computes softmax (or log-softmax) over the last axis in
// float64: exp(x - max) / Σ exp(x - max), (x - max) - log Σ exp(x - max).
func softmaxRef(x *tfops.Tensor, isLog bool) *tfops.Tensor {
	dims := x.Shape()
	n := dims[len(dims)-1]
	v := dazAll(x)
	out := make([]float64, len(v))
	for r := 0; n > 0 && r < len(v)/n; r++ {
		row := v[r*n : (r+1)*n]
		m := math.Inf(-1)
		for _, e := range row {
			m = nanMax(m, e)
		}
		sum := 0.0
		for _, e := range row {
			sum += math.Exp(e - m)
		}
		for i, e := range row {
			if isLog {
				out[r*n+i] = e - m - math.Log(sum)
			} else {
				out[r*n+i] = math.Exp(e-m) / sum
			}
		}
	}
	return tensorFlushed(x.DType(), dims, out)
}

func nnCases() []Case {
	var cs []Case
	for _, isLog := range []bool{false, true} {
		name := "Softmax"
		build := tfops.Softmax
		if isLog {
			name, build = "LogSoftmax", tfops.LogSoftmax
		}
		for _, d := range []tfops.DType{tfops.Float, tfops.Double} {
			for _, sc := range []struct {
				name  string
				dims  []int
				scale float64
			}{{"random", []int{4, 7}, 2}, {"large-logits", []int{3, 5}, 300}, {"rank3", []int{2, 3, 10}, 1}, {"vector", []int{6}, 1}, {"empty-rows", []int{0, 4}, 1}} {
				isLog, d, sc, build := isLog, d, sc, build
				cs = append(cs, Case{
					Name: fmt.Sprintf("%s/%v/%s", name, d, sc.name), Op: name,
					Description: "numerically stable over the last axis",
					Build: func(s *tfops.Scope) Graph {
						var g Graph
						xt := tensorF(d, sc.dims, randn(rng(uint64(900+len(sc.name))), numElems(sc.dims), sc.scale))
						g.Fetches = []tfops.Output{build(s, feed(s, &g, "x", xt))}
						g.Want = []*tfops.Tensor{softmaxRef(xt, isLog)}
						g.Tol = Reduction
						// Near-zero log-probabilities lose relative accuracy.
						g.Tol.Abs = 1e-6
						return g
					},
				})
			}
			isLog, d, build := isLog, d, build
			cs = append(cs, Case{
				Name: fmt.Sprintf("%s/%v/infinities", name, d), Op: name,
				Description: "rows with -Inf entries, a +Inf entry, a NaN",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					inf := math.Inf(1)
					xt := tensorF(d, []int{4, 3}, []float64{0, -inf, 1, -inf, -inf, 2, 1, inf, 0, 1, math.NaN(), 2})
					g.Fetches = []tfops.Output{build(s, feed(s, &g, "x", xt))}
					g.Want = []*tfops.Tensor{softmaxRef(xt, isLog)}
					g.Tol = Reduction
					return g
				},
			})
		}
	}
	for _, d := range []tfops.DType{tfops.Float, tfops.Int32, tfops.Double} {
		for _, k := range []int{0, 1, 3, 8} {
			d, k := d, k
			cs = append(cs, exact(fmt.Sprintf("TopKV2/%v/k%d", d, k), "TopKV2", "descending values; among equal values the lower index first", func(s *tfops.Scope, g *Graph) {
				dims := []int{3, 8}
				iv := randi(rng(uint64(950+k)), 24, -3, 4) // many ties
				var xt *tfops.Tensor
				if d == tfops.Int32 {
					xt = tensorI(d, dims, iv)
				} else {
					fv := make([]float64, len(iv))
					for i, e := range iv {
						fv[i] = float64(e) * 0.25
					}
					xt = tensorF(d, dims, fv)
				}
				v := floats(xt)
				vals := make([]float64, 0, 3*k)
				idx := make([]int64, 0, 3*k)
				for r := 0; r < 3; r++ {
					order := []int{0, 1, 2, 3, 4, 5, 6, 7}
					row := v[r*8 : (r+1)*8]
					sort.SliceStable(order, func(a, b int) bool { return row[order[a]] > row[order[b]] })
					for _, o := range order[:k] {
						vals = append(vals, row[o])
						idx = append(idx, int64(o))
					}
				}
				vo, io := tfops.TopKV2(s, feed(s, g, "x", xt), tfops.Scalar(s, tfops.Int32, float64(k)), true)
				g.Fetches = []tfops.Output{vo, io}
				var want *tfops.Tensor
				if d == tfops.Int32 {
					iv := make([]int64, len(vals))
					for i, e := range vals {
						iv[i] = int64(e)
					}
					want = tensorI(d, []int{3, k}, iv)
				} else {
					want = tensorF(d, []int{3, k}, vals)
				}
				g.Want = []*tfops.Tensor{want, tensorI(tfops.Int32, []int{3, k}, idx)}
			}))
		}
	}
	cs = append(cs, failing("TopKV2/float32/k-too-large", "TopKV2", "k larger than the last dimension", func(s *tfops.Scope, g *Graph) {
		x := feedUnknown(s, g, "x", arange(tfops.Float, 2, 3))
		k := feed(s, g, "k", tensorI(tfops.Int32, []int{}, []int64{4}))
		v, _ := tfops.TopKV2(s, x, k, true)
		g.Fetches = []tfops.Output{v}
	}))
	return cs
}
