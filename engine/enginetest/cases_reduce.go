package enginetest

import (
	"fmt"
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// refReduce reduces x (as float64) over axes with f, which receives the
// values of one output element in input order.
func refReduce(dims []int, v []float64, axes []int, keep bool, f func([]float64) float64) ([]int, []float64) {
	r := len(dims)
	red := make([]bool, r)
	for _, a := range axes {
		if a < 0 {
			a += r
		}
		red[a] = true
	}
	var out, kept []int
	for d := 0; d < r; d++ {
		switch {
		case !red[d]:
			out = append(out, dims[d])
			kept = append(kept, dims[d])
		case keep:
			out = append(out, 1)
		}
	}
	if out == nil {
		out = []int{}
	}
	groups := make([][]float64, numElems(kept))
	for i, e := range v {
		idx := unravel(i, dims)
		var k []int
		for d := 0; d < r; d++ {
			if !red[d] {
				k = append(k, idx[d])
			}
		}
		g := ravel(k, kept)
		groups[g] = append(groups[g], e)
	}
	res := make([]float64, len(groups))
	for i, g := range groups {
		res[i] = f(g)
	}
	return out, res
}

// The float64 references of the reductions. Max and Min propagate NaN;
// empty Max is -Inf, empty Min +Inf, empty Mean NaN.
var reduceRefs = map[string]func([]float64) float64{
	"Sum": func(v []float64) float64 {
		s := 0.0
		for _, e := range v {
			s += e
		}
		return s
	},
	"Mean": func(v []float64) float64 {
		s := 0.0
		for _, e := range v {
			s += e
		}
		return s / float64(len(v))
	},
	"Prod": func(v []float64) float64 {
		p := 1.0
		for _, e := range v {
			p *= e
		}
		return p
	},
	"Max": func(v []float64) float64 {
		m := math.Inf(-1)
		for _, e := range v {
			m = nanMax(m, e)
		}
		return m
	},
	"Min": func(v []float64) float64 {
		m := math.Inf(1)
		for _, e := range v {
			m = nanMin(m, e)
		}
		return m
	},
}

// magnitude returns, for op, the scale its rounding errors grow with: Σ|x|
// for Sum, the mean of |x| for Mean, 0 (relative error only) otherwise.
func magnitude(op string) func([]float64) float64 {
	return func(v []float64) float64 {
		s := 0.0
		for _, e := range v {
			s += math.Abs(e)
		}
		switch op {
		case "Sum":
			return s
		case "Mean":
			if len(v) == 0 {
				return 0
			}
			return s / float64(len(v))
		}
		return 0
	}
}

var reduceBuilders = map[string]func(s *tfops.Scope, x tfops.Output, axes []int, keep bool) tfops.Output{
	"Sum": tfops.Sum, "Mean": tfops.Mean, "Prod": tfops.Prod, "Max": tfops.Max, "Min": tfops.Min,
	"All": tfops.All, "Any": tfops.Any,
}

func reduceCases() []Case {
	var cs []Case
	shapes := []struct {
		name string
		dims []int
		axes []int
		keep bool
	}{
		{"all", []int{3, 4, 5}, nil, false},
		{"axis0", []int{3, 4, 5}, []int{0}, false},
		{"axis-1-keep", []int{3, 4, 5}, []int{-1}, true},
		{"axes0,2", []int{3, 4, 5}, []int{0, 2}, false},
		{"axis1", []int{3, 4, 5}, []int{1}, true},
		{"no-axes", []int{2, 3}, []int{}, false},
		{"scalar", []int{}, nil, false},
		{"size1-dims", []int{1, 6, 1, 2}, []int{2, 3}, false},
		{"empty-axis0", []int{0, 3}, []int{0}, false},
		{"empty-keep", []int{2, 0}, []int{1}, true},
	}
	for k, op := range []string{"Sum", "Mean", "Prod", "Max", "Min"} {
		op := op
		for j, sh := range shapes {
			for _, d := range []tfops.DType{tfops.Float, tfops.Double, tfops.Int32} {
				if d == tfops.Int32 && op == "Mean" && numElems(sh.dims) == 0 {
					continue // integer 0/0 is undefined in TensorFlow
				}
				sh, d, seed := sh, d, uint64(300+10*k+j)
				cs = append(cs, Case{
					Name: fmt.Sprintf("%s/%v/%s", op, d, sh.name), Op: op,
					Description: fmt.Sprintf("%v over axes %v of %v, keep_dims %v", op, sh.axes, sh.dims, sh.keep),
					Build: func(s *tfops.Scope) Graph {
						var g Graph
						n := numElems(sh.dims)
						r := rng(seed)
						var xt *tfops.Tensor
						if d == tfops.Int32 {
							xt = tensorI(d, sh.dims, randi(r, n, -9, 10))
						} else {
							xt = tensorF(d, sh.dims, randn(r, n, 2))
						}
						axes := sh.axes
						if axes == nil {
							for i := range sh.dims {
								axes = append(axes, i)
							}
						}
						dims, res := refReduce(sh.dims, dazAll(xt), axes, sh.keep, reduceRefs[op])
						// Cancellation: bound the error by the terms' magnitude too.
						_, mag := refReduce(sh.dims, dazAll(xt), axes, sh.keep, magnitude(op))
						g.Fetches = []tfops.Output{reduceBuilders[op](s, feed(s, &g, "x", xt), sh.axes, sh.keep)}
						if d == tfops.Int32 {
							iv := make([]int64, len(res))
							for i, e := range res {
								switch {
								case math.IsInf(e, -1): // empty Max: the lowest int32
									iv[i] = math.MinInt32
								case math.IsInf(e, 1):
									iv[i] = math.MaxInt32
								default:
									iv[i] = int64(math.Trunc(e))
								}
							}
							g.Want = []*tfops.Tensor{tensorI(d, dims, iv)}
						} else {
							g.Want = []*tfops.Tensor{tensorFlushed(d, dims, res)}
							g.Tol = Reduction
							for _, m := range mag {
								g.Tol.Abs = max(g.Tol.Abs, 1e-6*m)
							}
						}
						return g
					},
				})
			}
		}
	}
	// Edge values: NaN and Inf propagation, huge magnitudes. (A float32
	// sum whose partial sums overflow is left out: TensorFlow sums in
	// float32 and the Go engine in float64, so they legitimately differ.)
	for _, op := range []string{"Sum", "Max", "Min", "Mean"} {
		for _, withNaN := range []bool{false, true} {
			op, withNaN := op, withNaN
			name := op + "/float32/edges"
			first := []float64{1, 2, 3, 7, -1}
			if withNaN {
				name, first = op+"/float32/nan", []float64{1, 2, 3, math.NaN(), -1}
			}
			cs = append(cs, Case{
				Name: name, Op: op, Description: "rows holding ±Inf, extremes and denormals (and NaN: TensorFlow 2 propagates it)",
				TF2: withNaN && (op == "Max" || op == "Min"),
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					v := append(append([]float64{}, first...),
						1, math.Inf(1), 2, 3, 4,
						math.Inf(-1), 1, 2, math.Inf(1), 0,
						1e38, 1e38, -1e38, 1, 1,
						1e-40, 1e-40, -1e-45, 0, 0,
						math.Copysign(0, -1), math.Copysign(0, -1), math.Copysign(0, -1), math.Copysign(0, -1), math.Copysign(0, -1),
					)
					xt := tensorF(tfops.Float, []int{6, 5}, v)
					dims, res := refReduce([]int{6, 5}, dazAll(xt), []int{1}, false, reduceRefs[op])
					g.Fetches = []tfops.Output{reduceBuilders[op](s, feed(s, &g, "x", xt), []int{1}, false)}
					g.Want = []*tfops.Tensor{tensorFlushed(tfops.Float, dims, res)}
					g.Tol = Reduction
					return g
				},
			})
		}
	}
	// Large reductions: accuracy and thread splitting.
	for _, ax := range [][]int{{0}, {1}, nil} {
		ax := ax
		for _, op := range []string{"Sum", "Mean"} {
			op := op
			cs = append(cs, Case{
				Name: fmt.Sprintf("%s/float32/large-axes%v", op, ax), Op: op,
				Description: "a (400, 300) tensor of mixed magnitudes",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					dims := []int{400, 300}
					xt := tensorF(tfops.Float, dims, randn(rng(77), 120000, 10))
					axes := ax
					if axes == nil {
						axes = []int{0, 1}
					}
					od, res := refReduce(dims, floats(xt), axes, false, reduceRefs[op])
					g.Fetches = []tfops.Output{reduceBuilders[op](s, feed(s, &g, "x", xt), ax, false)}
					g.Want = []*tfops.Tensor{tensorF(tfops.Float, od, res)}
					g.Tol = Reduction
					// Sums of terms of both signs lose relative accuracy to
					// cancellation; bound the error by the terms' magnitude.
					g.Tol.Abs = 1e-6 * 10 * math.Sqrt(float64(numElems(dims)))
					return g
				},
			})
		}
	}
	for _, op := range []string{"All", "Any"} {
		op := op
		cs = append(cs, Case{
			Name: op + "/bool", Op: op, Description: "rows all true, all false, mixed; and an empty reduction",
			Build: func(s *tfops.Scope) Graph {
				var g Graph
				xt := tensorB([]int{3, 3}, []bool{true, true, true, false, false, false, true, false, true})
				et := tensorB([]int{0, 2}, nil)
				x, e := feed(s, &g, "x", xt), feed(s, &g, "e", et)
				g.Fetches = []tfops.Output{reduceBuilders[op](s, x, []int{1}, false), reduceBuilders[op](s, e, []int{0}, true)}
				if op == "All" {
					g.Want = []*tfops.Tensor{tensorB([]int{3}, []bool{true, false, false}), tensorB([]int{1, 2}, []bool{true, true})}
				} else {
					g.Want = []*tfops.Tensor{tensorB([]int{3}, []bool{true, false, true}), tensorB([]int{1, 2}, []bool{false, false})}
				}
				return g
			},
		})
	}
	cs = append(cs, Case{
		Name: "Reduce/Sum/dynamic-axes", Op: "Sum", Description: "axes fed at run time, negative",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			xt := tensorF(tfops.Double, []int{2, 3, 4}, randn(rng(78), 24, 1))
			at := tensorI(tfops.Int64, []int{2}, []int64{-1, 0})
			dims, res := refReduce([]int{2, 3, 4}, floats(xt), []int{2, 0}, false, reduceRefs["Sum"])
			g.Fetches = []tfops.Output{tfops.Reduce(s, "Sum", feed(s, &g, "x", xt), feed(s, &g, "axes", at), false)}
			g.Want = []*tfops.Tensor{tensorF(tfops.Double, dims, res)}
			g.Tol = Reduction
			return g
		},
	}, Case{
		Name: "Sum/float32/unknown-rank", Op: "Sum", Description: "all axes of an input of unknown rank (a dynamic Range over Rank)",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			xt := tensorF(tfops.Float, []int{2, 3}, []float64{1, 2, 3, 4, 5, 6})
			g.Fetches = []tfops.Output{tfops.Sum(s, feedUnknown(s, &g, "x", xt), nil, false)}
			g.Want = []*tfops.Tensor{tensorF(tfops.Float, []int{}, []float64{21})}
			return g
		},
	}, Case{
		Name: "Sum/float32/bad-axis", Op: "Sum", Description: "an axis out of range fed at run time is an error",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			xt := tensorF(tfops.Float, []int{2, 3}, make([]float64, 6))
			at := tensorI(tfops.Int32, []int{1}, []int64{2})
			g.Fetches = []tfops.Output{tfops.Reduce(s, "Sum", feed(s, &g, "x", xt), feed(s, &g, "axes", at), false)}
			g.WantErr = true
			return g
		},
	})
	cs = append(cs, argCases()...)
	cs = append(cs, cumsumCases()...)
	return cs
}

func argCases() []Case {
	var cs []Case
	for _, isMax := range []bool{true, false} {
		name := "ArgMin"
		if isMax {
			name = "ArgMax"
		}
		for _, d := range []tfops.DType{tfops.Float, tfops.Int32} {
			for axis := -1; axis <= 1; axis++ {
				isMax, d, axis, name := isMax, d, axis, name
				cs = append(cs, Case{
					Name: fmt.Sprintf("%s/%v/axis%d", name, d, axis), Op: name,
					Description: "ties resolve to the first index",
					Build: func(s *tfops.Scope) Graph {
						var g Graph
						dims := []int{4, 5, 3}
						r := rng(uint64(400 + axis + 3))
						var xt *tfops.Tensor
						iv := randi(r, 60, -3, 4) // many ties
						if d == tfops.Int32 {
							xt = tensorI(d, dims, iv)
						} else {
							fv := make([]float64, len(iv))
							for i, e := range iv {
								fv[i] = float64(e) / 2
							}
							xt = tensorF(d, dims, fv)
						}
						a := axis
						if a < 0 {
							a += len(dims)
						}
						out := argRef(dims, dazAll(xt), a, isMax)
						od := append(append([]int{}, dims[:a]...), dims[a+1:]...)
						ax := tfops.Scalar(s, tfops.Int32, float64(axis))
						outT := tfops.Int64
						if axis == 0 {
							outT = tfops.Int32
						}
						x := feed(s, &g, "x", xt)
						if isMax {
							g.Fetches = []tfops.Output{tfops.ArgMax(s, x, ax, outT)}
						} else {
							g.Fetches = []tfops.Output{tfops.ArgMin(s, x, ax, outT)}
						}
						g.Want = []*tfops.Tensor{tensorI(outT, od, out)}
						return g
					},
				})
			}
		}
	}
	return cs
}

// argRef is the first index of the extreme along axis a.
func argRef(dims []int, v []float64, a int, isMax bool) []int64 {
	od := append(append([]int{}, dims[:a]...), dims[a+1:]...)
	out := make([]int64, numElems(od))
	for o := range out {
		oi := unravel(o, od)
		best := math.NaN()
		for k := 0; k < dims[a]; k++ {
			idx := append(append(append([]int{}, oi[:a]...), k), oi[a:]...)
			e := v[ravel(idx, dims)]
			if k == 0 || (isMax && e > best) || (!isMax && e < best) {
				best, out[o] = e, int64(k)
			}
		}
	}
	return out
}

func cumsumCases() []Case {
	var cs []Case
	for _, d := range []tfops.DType{tfops.Float, tfops.Double, tfops.Int32} {
		for _, axis := range []int{0, 1, -1} {
			for _, excl := range []bool{false, true} {
				for _, rev := range []bool{false, true} {
					d, axis, excl, rev := d, axis, excl, rev
					cs = append(cs, Case{
						Name: fmt.Sprintf("Cumsum/%v/axis%d-exclusive=%v-reverse=%v", d, axis, excl, rev), Op: "Cumsum",
						Description: "running sums in every direction",
						Build: func(s *tfops.Scope) Graph {
							var g Graph
							dims := []int{3, 4, 5}
							r := rng(uint64(500 + axis))
							var xt *tfops.Tensor
							if d == tfops.Int32 {
								xt = tensorI(d, dims, randi(r, 60, -20, 20))
							} else {
								xt = tensorF(d, dims, randn(r, 60, 3))
							}
							a := axis
							if a < 0 {
								a += 3
							}
							v := dazAll(xt)
							out := make([]float64, len(v))
							for i := range v {
								idx := unravel(i, dims)
								sum := 0.0
								for k := 0; k < dims[a]; k++ {
									take := k <= idx[a]
									if rev {
										take = k >= idx[a]
									}
									if excl && k == idx[a] {
										take = false
									}
									if take {
										j := append([]int{}, idx...)
										j[a] = k
										sum += v[ravel(j, dims)]
									}
								}
								out[i] = sum
							}
							g.Fetches = []tfops.Output{tfops.Cumsum(s, feed(s, &g, "x", xt), tfops.Scalar(s, tfops.Int32, float64(axis)), excl, rev)}
							if d == tfops.Int32 {
								iv := make([]int64, len(out))
								for i, e := range out {
									iv[i] = int64(e)
								}
								g.Want = []*tfops.Tensor{tensorI(d, dims, iv)}
							} else {
								g.Want = []*tfops.Tensor{tensorFlushed(d, dims, out)}
								g.Tol = Reduction
								g.Tol.Abs = 1e-6 * 3 * 5
							}
							return g
						},
					})
				}
			}
		}
	}
	cs = append(cs, Case{
		Name: "Cumsum/float32/empty", Op: "Cumsum", Description: "an empty axis",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			xt := tensorF(tfops.Float, []int{2, 0}, nil)
			g.Fetches = []tfops.Output{tfops.Cumsum(s, feed(s, &g, "x", xt), tfops.Scalar(s, tfops.Int32, 1), false, false)}
			g.Want = []*tfops.Tensor{xt}
			return g
		},
	})
	return cs
}
