package enginetest

import (
	"fmt"
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// ResizeBicubic and ResizeArea (Keras Resizing and UpSampling2D with
// interpolation bicubic or area) against float64 references of
// TensorFlow's definitions (tensorflow/core/kernels/image/
// resize_bicubic_op.cc, resize_area_op.cc): source coordinates in float32
// as TensorFlow computes them, the bicubic kernel sampled at the fraction
// rounded to 1/1024 (its coefficient table), everything else in float64.

// cubicWeight is the cubic convolution kernel with parameter a at
// distance d in [0, 2].
func cubicWeight(a, d float64) float64 {
	if d <= 1 {
		return ((a+2)*d-(a+3))*d*d + 1
	}
	return ((a*d-5*a)*d+8*a)*d - 4*a
}

// bicubicRef1D returns the four source indices and weights of output
// position o.
func bicubicRef1D(o, in, out int, keys, align bool) ([4]int, [4]float64) {
	scale := float32(in) / float32(out)
	if align && out > 1 {
		scale = float32(in-1) / float32(out-1)
	}
	src := float32(o) * scale
	a := -0.75
	if keys {
		src = (float32(o)+0.5)*scale - 0.5
		a = -0.5
	}
	loc := math.Floor(float64(src))
	frac := math.RoundToEven((float64(src)-loc)*1024) / 1024
	var idx [4]int
	var w [4]float64
	sum := 0.0
	for k := 0; k < 4; k++ {
		i := int(loc) - 1 + k
		idx[k] = min(max(i, 0), in-1)
		w[k] = cubicWeight(a, math.Abs(float64(k-1)-frac))
		if keys && idx[k] != i {
			w[k] = 0
		}
		sum += w[k]
	}
	if keys {
		for k := range w {
			w[k] /= sum
		}
	}
	return idx, w
}

func resizeBicubicRef(x *tfops.Tensor, oh, ow int, keys, align bool) *tfops.Tensor {
	xs := x.Shape()
	xv := floats(x)
	dims := []int{xs[0], oh, ow, xs[3]}
	out := make([]float64, numElems(dims))
	for i := range out {
		idx := unravel(i, dims)
		yi, yw := bicubicRef1D(idx[1], xs[1], oh, keys, align)
		xi, xw := bicubicRef1D(idx[2], xs[2], ow, keys, align)
		for a := 0; a < 4; a++ {
			for b := 0; b < 4; b++ {
				out[i] += yw[a] * xw[b] * xv[ravel([]int{idx[0], yi[a], xi[b], idx[3]}, xs)]
			}
		}
	}
	return tensorFlushed(tfops.Float, dims, out)
}

// areaCoverage lists the source cells under output cell o and how much of
// each it covers (in units of source cells).
func areaCoverage(o int, scale float32, in int) (cells []int, cover []float64) {
	in0, in1 := float64(float32(o)*scale), float64(float32(o+1)*scale)
	for v := int(math.Floor(in0)); v < int(math.Ceil(in1)); v++ {
		lo, hi := math.Max(float64(v), in0), math.Min(float64(v+1), in1)
		cells = append(cells, min(max(v, 0), in-1))
		cover = append(cover, hi-lo)
	}
	return cells, cover
}

func resizeAreaRef(x *tfops.Tensor, oh, ow int, align bool) *tfops.Tensor {
	xs := x.Shape()
	scale := func(in, out int) float32 {
		if align && out > 1 {
			return float32(in-1) / float32(out-1)
		}
		return float32(in) / float32(out)
	}
	hs, ws := scale(xs[1], oh), scale(xs[2], ow)
	xv := floats(x)
	dims := []int{xs[0], oh, ow, xs[3]}
	out := make([]float64, numElems(dims))
	for i := range out {
		idx := unravel(i, dims)
		ys, yc := areaCoverage(idx[1], hs, xs[1])
		xcs, xc := areaCoverage(idx[2], ws, xs[2])
		for a, y := range ys {
			for b, z := range xcs {
				out[i] += yc[a] * xc[b] * xv[ravel([]int{idx[0], y, z, idx[3]}, xs)]
			}
		}
		out[i] /= float64(hs) * float64(ws)
	}
	return tensorFlushed(tfops.Float, dims, out)
}

func kerasResizeCases() []Case {
	f := tfops.Float
	tol := Tolerance{ULP: 4, Rel: 1e-5, Abs: 2e-6}
	var cs []Case
	for _, sc := range []struct {
		name        string
		in          []int
		oh, ow      int
		half, align bool
		area        bool
	}{
		{"bicubic-up-half-pixel", []int{2, 5, 4, 3}, 11, 9, true, false, false},
		{"bicubic-down-half-pixel", []int{1, 9, 8, 2}, 4, 3, true, false, false},
		{"bicubic-legacy", []int{1, 5, 6, 2}, 8, 10, false, false, false},
		{"bicubic-align-corners", []int{1, 5, 6, 2}, 9, 7, false, true, false},
		{"area-down", []int{2, 9, 8, 3}, 4, 3, false, false, true},
		{"area-down-integer", []int{1, 8, 6, 2}, 4, 3, false, false, true},
		{"area-up", []int{1, 3, 4, 2}, 7, 9, false, false, true},
		{"area-align-corners", []int{1, 7, 5, 1}, 3, 4, false, true, true},
	} {
		sc := sc
		op := "ResizeBicubic"
		if sc.area {
			op = "ResizeArea"
		}
		cs = append(cs, Case{Name: op + "/float32/" + sc.name, Op: op, Description: "tf.image.resize " + sc.name,
			Build: func(s *tfops.Scope) Graph {
				var g Graph
				xt := tensorF(f, sc.in, randn(rng(101), numElems(sc.in), 1))
				attrs := map[string]any{"T": f, "align_corners": sc.align}
				if !sc.area {
					attrs["half_pixel_centers"] = sc.half
				}
				g.Fetches = outputs(addOp(s, op, []any{feed(s, &g, "x", xt), tfops.Const(s, i32(int64(sc.oh), int64(sc.ow)))}, attrs, f))
				if sc.area {
					g.Want = []*tfops.Tensor{resizeAreaRef(xt, sc.oh, sc.ow, sc.align)}
				} else {
					g.Want = []*tfops.Tensor{resizeBicubicRef(xt, sc.oh, sc.ow, sc.half, sc.align)}
				}
				g.Tol = tol
				return g
			}})
	}
	return cs
}

// samplingRef is sampling_kernels.h's kernel kt in float64.
func samplingRef(kt string) (radius float64, f func(x float64) float64) {
	switch kt {
	case "lanczos3", "lanczos5":
		r := 3.0
		if kt == "lanczos5" {
			r = 5
		}
		return r, func(x float64) float64 {
			if x > r {
				return 0
			}
			if x <= 1e-3 {
				return 1
			}
			return r * math.Sin(math.Pi*x) * math.Sin(math.Pi*x/r) / (math.Pi * math.Pi * x * x)
		}
	case "gaussian":
		return 1.5, func(x float64) float64 {
			if x >= 1.5 {
				return 0
			}
			return math.Exp(-x * x / (2 * 0.5 * 0.5))
		}
	case "triangle":
		return 1, func(x float64) float64 { return math.Max(1-x, 0) }
	case "keyscubic", "mitchellcubic":
		// Keys (a = -0.5) and Mitchell-Netravali (B = C = 1/3).
		b, c := 0.0, 0.5
		if kt == "mitchellcubic" {
			b, c = 1.0/3, 1.0/3
		}
		return 2, func(x float64) float64 {
			switch {
			case x >= 2:
				return 0
			case x >= 1:
				return ((-b-6*c)*x*x*x + (6*b+30*c)*x*x + (-12*b-48*c)*x + (8*b + 24*c)) / 6
			}
			return ((12-9*b-6*c)*x*x*x + (-18+12*b+6*c)*x*x + (6 - 2*b)) / 6
		}
	}
	panic("enginetest: unknown kernel " + kt)
}

// scaleSpansRef returns, per output position, the source indices and
// normalized weights of ScaleAndTranslate's span (sample positions in
// float32 as TensorFlow computes them, weights in float64).
func scaleSpansRef(kt string, out, in int, scale float32, antialias bool) ([][]int, [][]float64) {
	r, f := samplingRef(kt)
	inv := float32(1.0 / float64(scale))
	ks := 1.0
	if antialias {
		ks = math.Max(float64(inv), 1)
	}
	idx, ws := make([][]int, out), make([][]float64, out)
	for x := 0; x < out; x++ {
		sample := (float32(x) + 0.5) * inv
		if sample < 0 || sample > float32(in) {
			continue
		}
		lo := int(math.Ceil(float64(sample - float32(r*ks) - 0.5)))
		hi := int(math.Floor(float64(sample + float32(r*ks) - 0.5)))
		lo, hi = min(max(lo, 0), in-1), min(max(hi, 0), in-1)+1
		sum := 0.0
		for s := lo; s < hi; s++ {
			w := f(math.Abs((float64(s) + 0.5 - float64(sample)) / ks))
			idx[x], ws[x] = append(idx[x], s), append(ws[x], w)
			sum += w
		}
		for i := range ws[x] {
			ws[x][i] /= sum
		}
	}
	return idx, ws
}

func scaleAndTranslateCases() []Case {
	f := tfops.Float
	var cs []Case
	for _, sc := range []struct {
		kt        string
		in        []int
		oh, ow    int
		antialias bool
	}{
		{"lanczos3", []int{1, 6, 5, 2}, 12, 9, false}, {"lanczos3", []int{1, 12, 10, 2}, 5, 4, true},
		{"lanczos5", []int{2, 7, 6, 1}, 11, 13, false}, {"gaussian", []int{1, 6, 5, 3}, 10, 11, false},
		{"gaussian", []int{1, 12, 9, 1}, 5, 4, true}, {"mitchellcubic", []int{1, 5, 6, 2}, 9, 11, false},
		{"keyscubic", []int{1, 9, 8, 1}, 4, 3, true}, {"triangle", []int{1, 9, 8, 1}, 4, 3, true},
	} {
		sc := sc
		name := sc.kt + map[bool]string{true: "-antialias", false: ""}[sc.antialias] + fmt.Sprintf("-%dx%d", sc.oh, sc.ow)
		cs = append(cs, Case{Name: "ScaleAndTranslate/float32/" + name, Op: "ScaleAndTranslate",
			Description: "tf.image.resize(method=" + sc.kt + ") as Keras Resizing runs it",
			Build: func(s *tfops.Scope) Graph {
				var g Graph
				xt := tensorF(f, sc.in, randn(rng(109), numElems(sc.in), 1))
				hs, ws := float32(sc.oh)/float32(sc.in[1]), float32(sc.ow)/float32(sc.in[2])
				g.Fetches = outputs(addOp(s, "ScaleAndTranslate", []any{feed(s, &g, "x", xt), tfops.Const(s, i32(int64(sc.oh), int64(sc.ow))),
					tfops.Const(s, tfops.MustFromSlice([]float32{hs, ws}, 2)), tfops.Const(s, tfops.MustFromSlice([]float32{0, 0}, 2))},
					map[string]any{"T": f, "kernel_type": sc.kt, "antialias": sc.antialias}, f))
				ri, rw := scaleSpansRef(sc.kt, sc.oh, sc.in[1], hs, sc.antialias)
				ci, cw := scaleSpansRef(sc.kt, sc.ow, sc.in[2], ws, sc.antialias)
				xv := floats(xt)
				dims := []int{sc.in[0], sc.oh, sc.ow, sc.in[3]}
				out := make([]float64, numElems(dims))
				for i := range out {
					idx := unravel(i, dims)
					for a, y := range ri[idx[1]] {
						for b, z := range ci[idx[2]] {
							out[i] += rw[idx[1]][a] * cw[idx[2]][b] * xv[ravel([]int{idx[0], y, z, idx[3]}, sc.in)]
						}
					}
				}
				g.Want = []*tfops.Tensor{tensorFlushed(f, dims, out)}
				g.Tol = Tolerance{ULP: 4, Rel: 1e-5, Abs: 2e-6}
				return g
			}})
	}
	return cs
}
