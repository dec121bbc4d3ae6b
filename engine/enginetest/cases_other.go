package enginetest

import (
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// ClipByValue, Cast and SelectV2.

func otherMathCases() []Case {
	clip := func(x, lo, hi float64) float64 {
		// TensorFlow: min(x, hi) then max(·, lo); NaN in x stays NaN.
		if hi < x {
			x = hi
		}
		if x < lo {
			x = lo
		}
		return x
	}
	cs := []Case{{
		Name: "ClipByValue/float32/scalar-bounds", Op: "ClipByValue", Description: "edge values clipped to [-1, 2]",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			v := floatInputs(tfops.Float, 41)
			xt := tensorF(tfops.Float, []int{len(v)}, v)
			lo, hi := tensorF(tfops.Float, []int{}, []float64{-1}), tensorF(tfops.Float, []int{}, []float64{2})
			g.Fetches = []tfops.Output{tfops.ClipByValue(s, feed(s, &g, "x", xt), feed(s, &g, "lo", lo), feed(s, &g, "hi", hi))}
			g.Want = []*tfops.Tensor{refUnary(xt, func(x float64) float64 { return clip(x, -1, 2) })}
			return g
		},
	}, {
		Name: "ClipByValue/float64/tensor-bounds", Op: "ClipByValue", Description: "bounds of the input's shape, some with lo > hi",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			r := rng(42)
			xv, lv, hv := randn(r, 24, 2), randn(r, 24, 1), randn(r, 24, 1)
			dims := []int{4, 6}
			xt, lt, ht := tensorF(tfops.Double, dims, xv), tensorF(tfops.Double, dims, lv), tensorF(tfops.Double, dims, hv)
			out := make([]float64, 24)
			for i := range out {
				out[i] = clip(xv[i], lv[i], hv[i])
			}
			g.Fetches = []tfops.Output{tfops.ClipByValue(s, feed(s, &g, "x", xt), feed(s, &g, "lo", lt), feed(s, &g, "hi", ht))}
			g.Want = []*tfops.Tensor{tensorFlushed(tfops.Double, dims, out)}
			return g
		},
	}, {
		Name: "ClipByValue/int32", Op: "ClipByValue", Description: "integers clipped to [-5, 5]",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			xt := tensorI(tfops.Int32, []int{len(edgeI32)}, edgeI32)
			lo, hi := tensorI(tfops.Int32, []int{}, []int64{-5}), tensorI(tfops.Int32, []int{}, []int64{5})
			out := make([]int64, len(edgeI32))
			for i, e := range edgeI32 {
				out[i] = min(max(e, -5), 5)
			}
			g.Fetches = []tfops.Output{tfops.ClipByValue(s, feed(s, &g, "x", xt), feed(s, &g, "lo", lo), feed(s, &g, "hi", hi))}
			g.Want = []*tfops.Tensor{tensorI(tfops.Int32, []int{len(out)}, out)}
			return g
		},
	}}

	// Cast between every pair of float32, float64, int32, int64 and bool,
	// on values every conversion defines (no NaN or out-of-range floats to
	// integers, which C++ leaves undefined).
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.49, -0.51, 1.5, -2.5, 2.9999, -7.75, 100.25, 16777217, 1e9, -2147483648, 123456789.5}
	types := []tfops.DType{tfops.Float, tfops.Double, tfops.Int32, tfops.Int64, tfops.Bool}
	for _, from := range types {
		for _, to := range types {
			if from == to {
				continue
			}
			from, to := from, to
			cs = append(cs, Case{
				Name: "Cast/" + from.String() + "-to-" + to.String(), Op: "Cast",
				Description: "truncation toward zero, rounding to nearest, x != 0 for bool",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					xt := castInput(from, vals)
					g.Fetches = []tfops.Output{tfops.Cast(s, feed(s, &g, "x", xt), to)}
					g.Want = []*tfops.Tensor{castRef(xt, to)}
					return g
				},
			})
		}
	}
	cs = append(cs, Case{
		Name: "Cast/float64-to-float32/edges", Op: "Cast", Description: "rounding, overflow to ±Inf, denormals, NaN",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			v := append(append([]float64{}, edge64...), 3.5e38, -3.5e38, 1e-45, 7e-46, 1.00000005960464477539, 0.1)
			xt := tensorF(tfops.Double, []int{len(v)}, v)
			g.Fetches = []tfops.Output{tfops.Cast(s, feed(s, &g, "x", xt), tfops.Float)}
			g.Want = []*tfops.Tensor{castRef(xt, tfops.Float)}
			return g
		},
	}, Case{
		Name: "Cast/int64-to-int32/wrap", Op: "Cast", Description: "integer narrowing wraps",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			xt := tensorI(tfops.Int64, []int{len(edgeI64)}, edgeI64)
			g.Fetches = []tfops.Output{tfops.Cast(s, feed(s, &g, "x", xt), tfops.Int32)}
			g.Want = []*tfops.Tensor{tensorI(tfops.Int32, []int{len(edgeI64)}, edgeI64)}
			return g
		},
	})

	for _, sc := range []struct {
		name        string
		cond, x, y  []int
		dtype       tfops.DType
		description string
	}{
		{"same-shape", []int{3, 4}, []int{3, 4}, []int{3, 4}, tfops.Float, "condition, t and e of one shape"},
		{"broadcast", []int{3, 1}, []int{1, 4}, []int{}, tfops.Float, "condition (3, 1), t (1, 4), e scalar"},
		{"broadcast-rank3", []int{2, 1, 5}, []int{3, 1}, []int{2, 3, 5}, tfops.Int32, "three different shapes"},
		{"bool-values", []int{4}, []int{4}, []int{1}, tfops.Bool, "selecting bools"},
		{"empty", []int{0, 2}, []int{1, 2}, []int{0, 1}, tfops.Double, "an empty result"},
	} {
		sc := sc
		cs = append(cs, Case{
			Name: "SelectV2/" + sc.dtype.String() + "/" + sc.name, Op: "SelectV2", Description: sc.description,
			Build: func(s *tfops.Scope) Graph {
				var g Graph
				r := rng(uint64(50 + len(sc.name)))
				cv := make([]bool, numElems(sc.cond))
				for i := range cv {
					cv[i] = r.IntN(2) == 0
				}
				mk := func(dims []int) *tfops.Tensor {
					switch sc.dtype {
					case tfops.Int32:
						return tensorI(sc.dtype, dims, randi(r, numElems(dims), -9, 9))
					case tfops.Bool:
						b := make([]bool, numElems(dims))
						for i := range b {
							b[i] = r.IntN(2) == 0
						}
						return tensorB(dims, b)
					}
					return tensorF(sc.dtype, dims, randn(r, numElems(dims), 1))
				}
				ct, xt, yt := tensorB(sc.cond, cv), mk(sc.x), mk(sc.y)
				dims := bcastDims(bcastDims(sc.cond, sc.x), sc.y)
				xe, ye := elemList(xt), elemList(yt)
				out := make([]any, numElems(dims))
				for i := range out {
					idx := unravel(i, dims)
					if cv[bcastSource(idx, sc.cond)] {
						out[i] = xe[bcastSource(idx, sc.x)]
					} else {
						out[i] = ye[bcastSource(idx, sc.y)]
					}
				}
				g.Fetches = []tfops.Output{tfops.SelectV2(s, feed(s, &g, "c", ct), feed(s, &g, "x", xt), feed(s, &g, "y", yt))}
				g.Want = []*tfops.Tensor{fromElemList(sc.dtype, dims, out)}
				return g
			},
		})
	}
	return cs
}

// castInput builds a tensor of dtype d from float64 values (truncated for
// integers, x != 0 for bool).
func castInput(d tfops.DType, v []float64) *tfops.Tensor {
	switch d {
	case tfops.Float, tfops.Double:
		return tensorF(d, []int{len(v)}, v)
	case tfops.Int32, tfops.Int64:
		iv := make([]int64, len(v))
		for i, e := range v {
			iv[i] = int64(e)
		}
		return tensorI(d, []int{len(v)}, iv)
	}
	b := make([]bool, len(v))
	for i, e := range v {
		b[i] = e != 0
	}
	return tensorB([]int{len(v)}, b)
}

// castRef converts x to dtype to by the C++ rules, one element at a time
// (denormals flushed on the way in and out).
func castRef(x *tfops.Tensor, to tfops.DType) *tfops.Tensor {
	n := x.NumElements()
	dims := x.Shape()
	switch to {
	case tfops.Bool:
		b := make([]bool, n)
		for i, e := range dazAll(x) {
			b[i] = e != 0
		}
		return tensorB(dims, b)
	case tfops.Int32, tfops.Int64:
		iv := make([]int64, n)
		if x.DType() == tfops.Int32 || x.DType() == tfops.Int64 {
			iv = ints(x)
		} else {
			for i, e := range dazAll(x) {
				iv[i] = int64(math.Trunc(e))
			}
		}
		return tensorI(to, dims, iv)
	}
	if x.DType() == tfops.Int64 && to == tfops.Float {
		// Round the integer straight to float32 (no double rounding).
		f := make([]float32, n)
		for i, e := range ints(x) {
			f[i] = float32(e)
		}
		return tfops.MustFromSlice(f, dims...)
	}
	return tensorFlushed(to, dims, dazAll(x))
}

// elemList returns a tensor's elements as []any.
func elemList(t *tfops.Tensor) []any {
	var out []any
	switch v := t.Data().(type) {
	case []float32:
		for _, e := range v {
			out = append(out, e)
		}
	case []float64:
		for _, e := range v {
			out = append(out, e)
		}
	case []int32:
		for _, e := range v {
			out = append(out, e)
		}
	case []int64:
		for _, e := range v {
			out = append(out, e)
		}
	case []bool:
		for _, e := range v {
			out = append(out, e)
		}
	case []uint8:
		for _, e := range v {
			out = append(out, e)
		}
	default:
		panic("enginetest: elemList: unsupported dtype " + t.DType().String())
	}
	return out
}

// fromElemList is the inverse of elemList.
func fromElemList(d tfops.DType, dims []int, v []any) *tfops.Tensor {
	switch d {
	case tfops.Float:
		return tfops.MustFromSlice(typed[float32](v), dims...)
	case tfops.Double:
		return tfops.MustFromSlice(typed[float64](v), dims...)
	case tfops.Int32:
		return tfops.MustFromSlice(typed[int32](v), dims...)
	case tfops.Int64:
		return tfops.MustFromSlice(typed[int64](v), dims...)
	case tfops.Bool:
		return tfops.MustFromSlice(typed[bool](v), dims...)
	}
	panic("enginetest: fromElemList: unsupported dtype " + d.String())
}

func typed[T any](v []any) []T {
	out := make([]T, len(v))
	for i, e := range v {
		out[i] = e.(T)
	}
	return out
}
