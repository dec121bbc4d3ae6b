package enginetest

import (
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// Conv3D, MaxPool3D and AvgPool3D (Keras Conv3D, MaxPooling3D,
// AveragePooling3D) against float64 loops over NDHWC inputs.

// window3Ref is one output element's taps: the input coordinates of the
// window around output position o in each spatial dimension.
func window3Ref(o, k []int, ws [3]windowGeom, s int, in []int) [][3]int {
	var taps [][3]int
	for a := 0; a < k[0]; a++ {
		for b := 0; b < k[1]; b++ {
			for e := 0; e < k[2]; e++ {
				t := [3]int{o[0]*s + a - ws[0].pad, o[1]*s + b - ws[1].pad, o[2]*s + e - ws[2].pad}
				if t[0] >= 0 && t[0] < in[0] && t[1] >= 0 && t[1] < in[1] && t[2] >= 0 && t[2] < in[2] {
					taps = append(taps, t)
				}
			}
		}
	}
	return taps
}

func kerasCases3D() []Case {
	f := tfops.Float
	tol := Tolerance{ULP: 4, Rel: 1e-5, Abs: 1e-5}
	var cs []Case
	for _, sc := range []struct {
		name string
		x, k []int
		s    int
		pad  string
	}{{"same", []int{1, 4, 5, 4, 2}, []int{3, 3, 3}, 1, "SAME"}, {"valid-stride2", []int{2, 5, 5, 6, 3}, []int{2, 3, 2}, 2, "VALID"}} {
		sc := sc
		in := sc.x[1:4]
		var ws [3]windowGeom
		for i := range ws {
			ws[i] = refWindow(in[i], sc.k[i], sc.s, 1, sc.pad)
		}
		odims := []int{sc.x[0], ws[0].out, ws[1].out, ws[2].out}
		strides := []int64{1, int64(sc.s), int64(sc.s), int64(sc.s), 1}
		cs = append(cs, Case{Name: "Conv3D/float32/" + sc.name, Op: "Conv3D", Description: "NDHWC convolution (Keras Conv3D)",
			Build: func(s *tfops.Scope) Graph {
				var g Graph
				fd := []int{sc.k[0], sc.k[1], sc.k[2], sc.x[4], 3}
				xt := tensorF(f, sc.x, randn(rng(95), numElems(sc.x), 1))
				ft := tensorF(f, fd, randn(rng(96), numElems(fd), 0.5))
				g.Fetches = outputs(addOp(s, "Conv3D", []any{feed(s, &g, "x", xt), feed(s, &g, "f", ft)},
					map[string]any{"T": f, "strides": strides, "padding": sc.pad, "data_format": "NDHWC", "dilations": []int64{1, 1, 1, 1, 1}}, f))
				dims := append(append([]int{}, odims...), 3)
				xv, fv := floats(xt), floats(ft)
				out := make([]float64, numElems(dims))
				for i := range out {
					idx := unravel(i, dims)
					for _, t := range window3Ref(idx[1:4], sc.k, ws, sc.s, in) {
						a, b, e := t[0]-idx[1]*sc.s+ws[0].pad, t[1]-idx[2]*sc.s+ws[1].pad, t[2]-idx[3]*sc.s+ws[2].pad
						for q := 0; q < sc.x[4]; q++ {
							out[i] += xv[ravel([]int{idx[0], t[0], t[1], t[2], q}, sc.x)] * fv[ravel([]int{a, b, e, q, idx[4]}, fd)]
						}
					}
				}
				g.Want = []*tfops.Tensor{tensorFlushed(f, dims, out)}
				g.Tol = tol
				return g
			}})
		for _, avg := range []bool{false, true} {
			avg := avg
			op := "MaxPool3D"
			if avg {
				op = "AvgPool3D"
			}
			cs = append(cs, Case{Name: op + "/float32/" + sc.name, Op: op, Description: "NDHWC pooling (Keras MaxPooling3D, AveragePooling3D)",
				Build: func(s *tfops.Scope) Graph {
					var g Graph
					xt := tensorF(f, sc.x, randn(rng(97), numElems(sc.x), 1))
					g.Fetches = outputs(addOp(s, op, []any{feed(s, &g, "x", xt)},
						map[string]any{"T": f, "strides": strides, "padding": sc.pad, "data_format": "NDHWC",
							"ksize": []int64{1, int64(sc.k[0]), int64(sc.k[1]), int64(sc.k[2]), 1}}, f))
					dims := append(append([]int{}, odims...), sc.x[4])
					xv := floats(xt)
					out := make([]float64, numElems(dims))
					for i := range out {
						idx := unravel(i, dims)
						taps := window3Ref(idx[1:4], sc.k, ws, sc.s, in)
						acc := math.Inf(-1)
						if avg {
							acc = 0
						}
						for _, t := range taps {
							v := xv[ravel([]int{idx[0], t[0], t[1], t[2], idx[4]}, sc.x)]
							if avg {
								acc += v
							} else {
								acc = math.Max(acc, v)
							}
						}
						if avg {
							acc /= float64(len(taps))
						}
						out[i] = acc
					}
					g.Want = []*tfops.Tensor{tensorFlushed(f, dims, out)}
					g.Tol = tol
					return g
				}})
		}
	}
	// Conv3DBackpropInputV2 (Keras Conv3DTranspose): the adjoint of the
	// Conv3D reference.
	for _, sc := range []struct {
		name string
		x, k []int
		s    int
		pad  string
	}{{"same-stride2", []int{1, 4, 6, 5, 2}, []int{3, 3, 3}, 2, "SAME"}, {"valid-stride2", []int{2, 5, 5, 4, 2}, []int{2, 3, 2}, 2, "VALID"}} {
		sc := sc
		in := sc.x[1:4]
		var ws [3]windowGeom
		for i := range ws {
			ws[i] = refWindow(in[i], sc.k[i], sc.s, 1, sc.pad)
		}
		cs = append(cs, Case{Name: "Conv3DBackpropInputV2/float32/" + sc.name, Op: "Conv3DBackpropInputV2", Description: "transposed 3-D convolution (Keras Conv3DTranspose)",
			Build: func(s *tfops.Scope) Graph {
				var g Graph
				fd := []int{sc.k[0], sc.k[1], sc.k[2], sc.x[4], 3}
				dyd := []int{sc.x[0], ws[0].out, ws[1].out, ws[2].out, 3}
				dy := tensorF(f, dyd, randn(rng(107), numElems(dyd), 1))
				ft := tensorF(f, fd, randn(rng(108), numElems(fd), 0.5))
				sizes := tensorI(tfops.Int32, []int{5}, ints64(sc.x))
				g.Fetches = outputs(addOp(s, "Conv3DBackpropInputV2", []any{tfops.Const(s, sizes), feed(s, &g, "f", ft), feed(s, &g, "dy", dy)},
					map[string]any{"T": f, "Tshape": tfops.Int32, "strides": []int64{1, int64(sc.s), int64(sc.s), int64(sc.s), 1}, "padding": sc.pad,
						"data_format": "NDHWC", "dilations": []int64{1, 1, 1, 1, 1}}, f))
				dv, fv := floats(dy), floats(ft)
				out := make([]float64, numElems(sc.x))
				for i := range dv {
					idx := unravel(i, dyd)
					for _, t := range window3Ref(idx[1:4], sc.k, ws, sc.s, in) {
						a, b, e := t[0]-idx[1]*sc.s+ws[0].pad, t[1]-idx[2]*sc.s+ws[1].pad, t[2]-idx[3]*sc.s+ws[2].pad
						for q := 0; q < sc.x[4]; q++ {
							out[ravel([]int{idx[0], t[0], t[1], t[2], q}, sc.x)] += dv[i] * fv[ravel([]int{a, b, e, q, idx[4]}, fd)]
						}
					}
				}
				g.Want = []*tfops.Tensor{tensorFlushed(f, sc.x, out)}
				g.Tol = tol
				return g
			}})
	}
	cs = append(cs, failing("Conv3D/float32/valid-window-too-large", "Conv3D", "VALID 3x3x3 window on a 1x4x4 input: output size -1 is an error", func(s *tfops.Scope, g *Graph) {
		x, fl := feedUnknown(s, g, "x", arange(f, 1, 1, 4, 4, 2)), feedUnknown(s, g, "f", arange(f, 3, 3, 3, 2, 1))
		g.Fetches = outputs(addOp(s, "Conv3D", []any{x, fl}, map[string]any{"T": f, "strides": []int64{1, 1, 1, 1, 1}, "padding": "VALID", "data_format": "NDHWC"}, f))
	}))
	return cs
}
