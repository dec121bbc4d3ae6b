package enginetest

import (
	"fmt"
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// Cases for the convolution, pooling, normalization, resizing and padding
// ops of Keras layers, each against a float64 reference loop, and for the
// windowed ops' negative output sizes, which TensorFlow rejects
// ("Computed output size would be negative", GetWindowedOutputSizeVerbose
// in tensorflow/core/framework/kernel_shape_util.cc).

// windowGeom is one spatial dimension of a sliding window, as TensorFlow
// computes it (VALID or SAME).
type windowGeom struct{ out, pad int }

func refWindow(in, k, stride, dil int, padding string) windowGeom {
	eff := (k-1)*dil + 1
	if padding == "VALID" {
		return windowGeom{out: (in - eff + stride) / stride}
	}
	out := (in + stride - 1) / stride
	return windowGeom{out: out, pad: max((out-1)*stride+eff-in, 0) / 2}
}

// conv2DRef: out[n,i,j,o] = Σ x[n, i*s+a*d-pt, j*s+b*d-pl, q]·f[a,b,q,o]
// (depthwise: out channel q*m+k = Σ_{a,b} x[..., q]·f[a,b,q,k]).
func conv2DRef(x, f *tfops.Tensor, s, d int, padding string, depthwise bool) *tfops.Tensor {
	xs, fs := x.Shape(), f.Shape()
	wh, ww := refWindow(xs[1], fs[0], s, d, padding), refWindow(xs[2], fs[1], s, d, padding)
	oc := fs[3]
	if depthwise {
		oc = fs[2] * fs[3]
	}
	dims := []int{xs[0], wh.out, ww.out, oc}
	xv, fv := floats(x), floats(f)
	out := make([]float64, numElems(dims))
	for k := range out {
		idx := unravel(k, dims)
		var acc float64
		for a := 0; a < fs[0]; a++ {
			y := idx[1]*s + a*d - wh.pad
			for b := 0; b < fs[1]; b++ {
				z := idx[2]*s + b*d - ww.pad
				if y < 0 || y >= xs[1] || z < 0 || z >= xs[2] {
					continue
				}
				if depthwise {
					q, m := idx[3]/fs[3], idx[3]%fs[3]
					acc += xv[ravel([]int{idx[0], y, z, q}, xs)] * fv[ravel([]int{a, b, q, m}, fs)]
					continue
				}
				for q := 0; q < xs[3]; q++ {
					acc += xv[ravel([]int{idx[0], y, z, q}, xs)] * fv[ravel([]int{a, b, q, idx[3]}, fs)]
				}
			}
		}
		out[k] = acc
	}
	return tensorFlushed(x.DType(), dims, out)
}

// convTransposeRef is Conv2DBackpropInput: the adjoint of conv2DRef for an
// input of shape xdims.
func convTransposeRef(dy, f *tfops.Tensor, xdims []int, s int, padding string) *tfops.Tensor {
	fs, ds := f.Shape(), dy.Shape()
	wh, ww := refWindow(xdims[1], fs[0], s, 1, padding), refWindow(xdims[2], fs[1], s, 1, padding)
	dv, fv := floats(dy), floats(f)
	out := make([]float64, numElems(xdims))
	for k := range dv {
		idx := unravel(k, ds)
		for a := 0; a < fs[0]; a++ {
			for b := 0; b < fs[1]; b++ {
				y, z := idx[1]*s+a-wh.pad, idx[2]*s+b-ww.pad
				if y < 0 || y >= xdims[1] || z < 0 || z >= xdims[2] {
					continue
				}
				for q := 0; q < xdims[3]; q++ {
					out[ravel([]int{idx[0], y, z, q}, xdims)] += dv[k] * fv[ravel([]int{a, b, q, idx[3]}, fs)]
				}
			}
		}
	}
	return tensorFlushed(dy.DType(), xdims, out)
}

// poolRef is MaxPool or AvgPool (the mean of the window's elements inside
// the input, padding excluded).
func poolRef(x *tfops.Tensor, k, s int, padding string, avg bool) *tfops.Tensor {
	xs := x.Shape()
	wh, ww := refWindow(xs[1], k, s, 1, padding), refWindow(xs[2], k, s, 1, padding)
	dims := []int{xs[0], wh.out, ww.out, xs[3]}
	xv := floats(x)
	out := make([]float64, numElems(dims))
	for i := range out {
		idx := unravel(i, dims)
		acc, n := math.Inf(-1), 0
		if avg {
			acc = 0
		}
		for a := 0; a < k; a++ {
			for b := 0; b < k; b++ {
				y, z := idx[1]*s+a-wh.pad, idx[2]*s+b-ww.pad
				if y < 0 || y >= xs[1] || z < 0 || z >= xs[2] {
					continue
				}
				v := xv[ravel([]int{idx[0], y, z, idx[3]}, xs)]
				if avg {
					acc += v
				} else {
					acc = math.Max(acc, v)
				}
				n++
			}
		}
		if avg {
			acc /= float64(n)
		}
		out[i] = acc
	}
	return tensorFlushed(x.DType(), dims, out)
}

// resizeRef is ResizeBilinear or ResizeNearestNeighbor with
// half_pixel_centers (Keras' Resizing and UpSampling2D on TensorFlow 2)
// or align_corners, source coordinates in float32 as TensorFlow computes
// them (image_resizer_state.h), interpolation in float64.
func resizeRef(x *tfops.Tensor, oh, ow int, bilinear, align bool) *tfops.Tensor {
	xs := x.Shape()
	coord := func(i, in, out int) (lo, hi int, w float64) {
		scale := float32(in) / float32(out)
		if align && out > 1 {
			scale = float32(in-1) / float32(out-1)
		}
		if !bilinear {
			if align {
				return min(int(math.Round(float64(float32(i)*scale))), in-1), 0, 0
			}
			return max(min(int(math.Floor(float64((float32(i)+0.5)*scale))), in-1), 0), 0, 0
		}
		src := float32(i) * scale
		if !align {
			src = (float32(i)+0.5)*scale - 0.5
		}
		fl := math.Floor(float64(src))
		return max(int(fl), 0), min(int(math.Ceil(float64(src))), in-1), float64(src) - fl
	}
	dims := []int{xs[0], oh, ow, xs[3]}
	xv := floats(x)
	at := func(n, y, z, c int) float64 { return xv[ravel([]int{n, y, z, c}, xs)] }
	out := make([]float64, numElems(dims))
	for i := range out {
		idx := unravel(i, dims)
		y0, y1, wy := coord(idx[1], xs[1], oh)
		z0, z1, wz := coord(idx[2], xs[2], ow)
		if !bilinear {
			out[i] = at(idx[0], y0, z0, idx[3])
			continue
		}
		top := at(idx[0], y0, z0, idx[3]) + (at(idx[0], y0, z1, idx[3])-at(idx[0], y0, z0, idx[3]))*wz
		bot := at(idx[0], y1, z0, idx[3]) + (at(idx[0], y1, z1, idx[3])-at(idx[0], y1, z0, idx[3]))*wz
		out[i] = top + (bot-top)*wy
	}
	return tensorFlushed(x.DType(), dims, out)
}

// nhwcAttrs are the attrs of a 4-D NHWC windowed op.
func nhwcAttrs(d tfops.DType, s, dil int, padding string) map[string]any {
	return map[string]any{"T": d, "strides": []int64{1, int64(s), int64(s), 1}, "dilations": []int64{1, int64(dil), int64(dil), 1},
		"padding": padding, "data_format": "NHWC"}
}

func kerasNNCases() []Case {
	f := tfops.Float
	conv := Tolerance{ULP: 4, Rel: 1e-5, Abs: 1e-5}
	var cs []Case
	add := func(name, op, desc string, tol Tolerance, build func(s *tfops.Scope, g *Graph)) {
		cs = append(cs, Case{Name: name, Op: op, Description: desc, Build: func(s *tfops.Scope) Graph {
			var g Graph
			build(s, &g)
			g.Tol = tol
			return g
		}})
	}
	for _, sc := range []struct {
		name      string
		x, f      []int
		s, d      int
		pad       string
		depthwise bool
	}{
		{"same", []int{2, 7, 6, 3}, []int{3, 3, 3, 4}, 1, 1, "SAME", false},
		{"valid-stride2", []int{1, 9, 8, 2}, []int{3, 2, 2, 5}, 2, 1, "VALID", false},
		{"same-dilated", []int{1, 8, 8, 2}, []int{3, 3, 2, 3}, 1, 2, "SAME", false},
		{"conv1d-as-2d", []int{2, 1, 10, 3}, []int{1, 3, 3, 4}, 1, 1, "VALID", false},
		{"pointwise", []int{2, 4, 4, 6}, []int{1, 1, 6, 3}, 1, 1, "VALID", false},
		{"depthwise-same", []int{2, 6, 6, 3}, []int{3, 3, 3, 2}, 1, 1, "SAME", true},
		{"depthwise-valid-stride2", []int{1, 9, 9, 4}, []int{3, 3, 4, 1}, 2, 1, "VALID", true},
	} {
		sc := sc
		op := "Conv2D"
		if sc.depthwise {
			op = "DepthwiseConv2dNative"
		}
		add(fmt.Sprintf("%s/float32/%s", op, sc.name), op, "NHWC convolution (Keras Conv1D/Conv2D, DepthwiseConv2D, SeparableConv2D)", conv, func(s *tfops.Scope, g *Graph) {
			xt := tensorF(f, sc.x, randn(rng(81), numElems(sc.x), 1))
			ft := tensorF(f, sc.f, randn(rng(82), numElems(sc.f), 0.5))
			g.Fetches = outputs(addOp(s, op, []any{feed(s, g, "x", xt), feed(s, g, "f", ft)}, nhwcAttrs(f, sc.s, sc.d, sc.pad), f))
			g.Want = []*tfops.Tensor{conv2DRef(xt, ft, sc.s, sc.d, sc.pad, sc.depthwise)}
		})
	}
	for _, sc := range []struct {
		name string
		x    []int
		f    []int
		s    int
		pad  string
	}{{"same-stride2", []int{2, 8, 6, 3}, []int{3, 3, 3, 4}, 2, "SAME"}, {"valid-stride2", []int{1, 9, 7, 2}, []int{3, 3, 2, 3}, 2, "VALID"},
		{"k2-stride2", []int{1, 6, 6, 2}, []int{2, 2, 2, 3}, 2, "SAME"}} {
		sc := sc
		add("Conv2DBackpropInput/float32/"+sc.name, "Conv2DBackpropInput", "transposed convolution (Keras Conv2DTranspose)", conv, func(s *tfops.Scope, g *Graph) {
			wh, ww := refWindow(sc.x[1], sc.f[0], sc.s, 1, sc.pad), refWindow(sc.x[2], sc.f[1], sc.s, 1, sc.pad)
			dyd := []int{sc.x[0], wh.out, ww.out, sc.f[3]}
			dy := tensorF(f, dyd, randn(rng(83), numElems(dyd), 1))
			ft := tensorF(f, sc.f, randn(rng(84), numElems(sc.f), 0.5))
			sizes := tensorI(tfops.Int32, []int{4}, []int64{int64(sc.x[0]), int64(sc.x[1]), int64(sc.x[2]), int64(sc.x[3])})
			attrs := nhwcAttrs(f, sc.s, 1, sc.pad)
			g.Fetches = outputs(addOp(s, "Conv2DBackpropInput", []any{tfops.Const(s, sizes), feed(s, g, "f", ft), feed(s, g, "dy", dy)}, attrs, f))
			g.Want = []*tfops.Tensor{convTransposeRef(dy, ft, sc.x, sc.s, sc.pad)}
		})
	}
	for _, avg := range []bool{false, true} {
		op := "MaxPool"
		if avg {
			op = "AvgPool"
		}
		for _, sc := range []struct {
			name string
			x    []int
			k, s int
			pad  string
		}{{"valid-2x2", []int{2, 6, 6, 3}, 2, 2, "VALID"}, {"same-3x3-stride2", []int{1, 7, 5, 2}, 3, 2, "SAME"}, {"same-3x3-stride1", []int{1, 4, 4, 2}, 3, 1, "SAME"}} {
			sc, avg, op := sc, avg, op
			add(fmt.Sprintf("%s/float32/%s", op, sc.name), op, "pooling (Keras MaxPooling/AveragePooling 1D and 2D)", Tolerance{ULP: 4, Rel: 1e-5, Abs: 1e-6}, func(s *tfops.Scope, g *Graph) {
				xt := tensorF(f, sc.x, randn(rng(85), numElems(sc.x), 1))
				attrs := nhwcAttrs(f, sc.s, 1, sc.pad)
				delete(attrs, "dilations")
				attrs["ksize"] = []int64{1, int64(sc.k), int64(sc.k), 1}
				g.Fetches = outputs(addOp(s, op, []any{feed(s, g, "x", xt)}, attrs, f))
				g.Want = []*tfops.Tensor{poolRef(xt, sc.k, sc.s, sc.pad, avg)}
			})
		}
	}
	// FusedBatchNormV3 at inference (Keras BatchNormalization, tf.keras
	// 2.x on 4-D inputs).
	add("FusedBatchNormV3/float32/inference", "FusedBatchNormV3", "(x - mean)·rsqrt(var + eps)·scale + offset per channel", Tolerance{ULP: 4, Rel: 1e-5, Abs: 1e-6}, func(s *tfops.Scope, g *Graph) {
		dims := []int{2, 3, 4, 5}
		xt := tensorF(f, dims, randn(rng(86), numElems(dims), 2))
		r := rng(87)
		sc, of, mn := tensorF(f, []int{5}, randn(r, 5, 1)), tensorF(f, []int{5}, randn(r, 5, 1)), tensorF(f, []int{5}, randn(r, 5, 1))
		vr := tensorF(f, []int{5}, randu(r, 5, 0.1, 3))
		eps := float32(1e-3)
		o := addOp(s, "FusedBatchNormV3", []any{feed(s, g, "x", xt), feed(s, g, "scale", sc), feed(s, g, "offset", of), feed(s, g, "mean", mn), feed(s, g, "var", vr)},
			map[string]any{"T": f, "U": f, "epsilon": eps, "is_training": false, "data_format": "NHWC"}, f, f, f, f, f, f)
		g.Fetches = outputs(o)[:1]
		xv, sv, ov, mv, vv := floats(xt), floats(sc), floats(of), floats(mn), floats(vr)
		out := make([]float64, len(xv))
		for i, x := range xv {
			c := i % 5
			out[i] = (x-mv[c])/math.Sqrt(vv[c]+float64(eps))*sv[c] + ov[c]
		}
		g.Want = []*tfops.Tensor{tensorFlushed(f, dims, out)}
	})
	// Keras Conv2D(use_bias=False) → BatchNormalization → ReLU at
	// inference: a chain the Go engine runs as one _FusedConv2D with
	// fused_ops [FusedBatchNorm, Relu] (as grappler's remapper fuses it
	// for TensorFlow's CPU kernels).
	for _, act := range []string{"", "Relu"} {
		act := act
		name := "Conv2D+FusedBatchNormV3/float32/inference"
		if act != "" {
			name = "Conv2D+FusedBatchNormV3+" + act + "/float32/inference"
		}
		add(name, "FusedBatchNormV3", "Keras Conv2D, BatchNormalization [, ReLU] at inference", conv, func(s *tfops.Scope, g *Graph) {
			xd, fd := []int{2, 9, 7, 3}, []int{3, 3, 3, 6}
			xt := tensorF(f, xd, randn(rng(91), numElems(xd), 1))
			ft := tensorF(f, fd, randn(rng(92), numElems(fd), 0.5))
			r := rng(93)
			sc, of, mn := tensorF(f, []int{6}, randn(r, 6, 1)), tensorF(f, []int{6}, randn(r, 6, 1)), tensorF(f, []int{6}, randn(r, 6, 1))
			vr := tensorF(f, []int{6}, randu(r, 6, 0.1, 3))
			eps := float32(1e-3)
			cv := addOp(s, "Conv2D", []any{feed(s, g, "x", xt), feed(s, g, "f", ft)}, nhwcAttrs(f, 1, 1, "SAME"), f)
			o := addOp(s, "FusedBatchNormV3", []any{cv.Output(0), feed(s, g, "scale", sc), feed(s, g, "offset", of), feed(s, g, "mean", mn), feed(s, g, "var", vr)},
				map[string]any{"T": f, "U": f, "epsilon": eps, "is_training": false, "data_format": "NHWC"}, f, f, f, f, f, f)
			y := outputs(o)[:1]
			if act != "" {
				y = outputs(addOp(s, act, []any{y[0]}, map[string]any{"T": f}, f))
			}
			g.Fetches = y
			ref := conv2DRef(xt, ft, 1, 1, "SAME", false)
			cvv, sv, ov, mv, vv := floats(ref), floats(sc), floats(of), floats(mn), floats(vr)
			out := make([]float64, len(cvv))
			for i, x := range cvv {
				c := i % 6
				out[i] = (x-mv[c])/math.Sqrt(vv[c]+float64(eps))*sv[c] + ov[c]
				if act == "Relu" {
					out[i] = max(out[i], 0)
				}
			}
			g.Want = []*tfops.Tensor{tensorFlushed(f, ref.Shape(), out)}
		})
	}
	for _, sc := range []struct {
		name            string
		oh, ow          int
		bilinear, align bool
	}{{"bilinear-up", 9, 7, true, false}, {"bilinear-down", 2, 3, true, false}, {"bilinear-align", 9, 7, true, true},
		{"nearest-up", 8, 10, false, false}, {"nearest-align", 7, 9, false, true}} {
		sc := sc
		op := "ResizeNearestNeighbor"
		if sc.bilinear {
			op = "ResizeBilinear"
		}
		add(op+"/float32/"+sc.name, op, "Keras Resizing/UpSampling2D (half_pixel_centers) and align_corners", Tolerance{ULP: 4, Rel: 1e-5, Abs: 1e-6}, func(s *tfops.Scope, g *Graph) {
			dims := []int{2, 4, 5, 3}
			xt := tensorF(f, dims, randn(rng(88), numElems(dims), 1))
			o := addOp(s, op, []any{feed(s, g, "x", xt), tfops.Const(s, i32(int64(sc.oh), int64(sc.ow)))},
				map[string]any{"T": f, "align_corners": sc.align, "half_pixel_centers": !sc.align}, f)
			g.Fetches = outputs(o)
			g.Want = []*tfops.Tensor{resizeRef(xt, sc.oh, sc.ow, sc.bilinear, sc.align)}
		})
	}
	add("LeakyRelu/float32/alpha0.3", "LeakyRelu", "Keras LeakyReLU (alpha 0.3)", Elementwise, func(s *tfops.Scope, g *Graph) {
		xt := tensorF(f, []int{40}, randn(rng(89), 40, 3))
		g.Fetches = outputs(addOp(s, "LeakyRelu", []any{feed(s, g, "x", xt)}, map[string]any{"T": f, "alpha": float32(0.3)}, f))
		g.Want = []*tfops.Tensor{refUnary(xt, func(x float64) float64 {
			if x < 0 {
				return x * float64(float32(0.3))
			}
			return x
		})}
	})
	for _, mode := range []string{"REFLECT", "SYMMETRIC"} {
		mode := mode
		add("MirrorPad/float32/"+mode, "MirrorPad", "mirror padding of rows and columns", Exact, func(s *tfops.Scope, g *Graph) {
			xt := arange(f, 1, 3, 4, 1)
			pads := tensorI(tfops.Int32, []int{4, 2}, []int64{0, 0, 2, 1, 1, 2, 0, 0})
			g.Fetches = outputs(addOp(s, "MirrorPad", []any{feed(s, g, "x", xt), tfops.Const(s, pads)}, map[string]any{"T": f, "Tpaddings": tfops.Int32, "mode": mode}, f))
			off := 0
			if mode == "SYMMETRIC" {
				off = 1
			}
			mirror := func(i, n int) int {
				if i < 0 {
					return -i - off
				}
				if i >= n {
					return 2*n - 2 - i + off
				}
				return i
			}
			g.Want = []*tfops.Tensor{gatherRef(xt, []int{1, 6, 7, 1}, func(idx []int) []int {
				return []int{0, mirror(idx[1]-2, 3), mirror(idx[2]-1, 4), 0}
			}, nil)}
		})
	}
	return append(append(append(append(append(cs, windowSizeCases()...), denseCases()...), kerasCases3D()...), bnTrainingCases()...), groupedConvCases()...)
}

// windowSizeCases: a VALID window larger than the input by more than the
// stride gives a negative output size, an error in TensorFlow (and its
// shape inference); a window larger by less gives an empty output.
func windowSizeCases() []Case {
	f := tfops.Float
	var cs []Case
	for _, op := range []string{"Conv2D", "DepthwiseConv2dNative", "MaxPool", "AvgPool"} {
		op := op
		build := func(x []int, k, stride int) func(s *tfops.Scope, g *Graph) {
			return func(s *tfops.Scope, g *Graph) {
				xt := arange(f, x...)
				xin := feedUnknown(s, g, "x", xt)
				attrs := nhwcAttrs(f, stride, 1, "VALID")
				var o *tfops.Operation
				switch op {
				case "MaxPool", "AvgPool":
					delete(attrs, "dilations")
					attrs["ksize"] = []int64{1, int64(k), int64(k), 1}
					o = addOp(s, op, []any{xin}, attrs, f)
				default:
					ft := arange(f, k, k, x[3], 1)
					o = addOp(s, op, []any{xin, feedUnknown(s, g, "f", ft)}, attrs, f)
				}
				g.Fetches = outputs(o)
				oc := x[3]
				if op == "Conv2D" {
					oc = 1
				}
				g.Want = []*tfops.Tensor{tensorF(f, []int{x[0], 0, 0, oc}, nil)}
			}
		}
		cs = append(cs,
			failing(op+"/float32/valid-window-too-large", op, "VALID 3x3 window on a 1x1 input: output size -1 is an error", build([]int{1, 1, 1, 2}, 3, 1)),
			exact(op+"/float32/valid-window-empty-output", op, "VALID 3x3 window on a 2x2 input: output size 0, an empty tensor", build([]int{1, 2, 2, 2}, 3, 1)),
		)
	}
	return cs
}

// denseCases: MatMul (transposes), BiasAdd and BatchMatMulV2 with
// broadcast batch dimensions (Keras Dense, Attention, Dot).
func denseCases() []Case {
	f := tfops.Float
	tol := Tolerance{ULP: 4, Rel: 1e-5, Abs: 1e-5}
	// matRef multiplies op(a)[m×k]·op(b)[k×n] for each broadcast batch.
	matRef := func(a, b *tfops.Tensor, ta, tb bool) *tfops.Tensor {
		as, bs := a.Shape(), b.Shape()
		ra, rb := len(as), len(bs)
		m, k := as[ra-2], as[ra-1]
		if ta {
			m, k = k, m
		}
		n := bs[rb-1]
		if tb {
			n = bs[rb-2]
		}
		batch := bcastDims(as[:ra-2], bs[:rb-2])
		dims := append(append([]int{}, batch...), m, n)
		av, bv := floats(a), floats(b)
		out := make([]float64, numElems(dims))
		for i := range out {
			idx := unravel(i, dims)
			bi := idx[:len(batch)]
			r, c := idx[len(batch)], idx[len(batch)+1]
			var acc float64
			for p := 0; p < k; p++ {
				ai := append(bcastSource2(bi, as[:ra-2]), r, p)
				if ta {
					ai[len(ai)-2], ai[len(ai)-1] = p, r
				}
				bj := append(bcastSource2(bi, bs[:rb-2]), p, c)
				if tb {
					bj[len(bj)-2], bj[len(bj)-1] = c, p
				}
				acc += av[ravel(ai, as)] * bv[ravel(bj, bs)]
			}
			out[i] = acc
		}
		return tensorFlushed(a.DType(), dims, out)
	}
	var cs []Case
	for _, sc := range []struct {
		name   string
		a, b   []int
		ta, tb bool
		op     string
	}{{"plain", []int{5, 7}, []int{7, 3}, false, false, "MatMul"}, {"transpose-a", []int{7, 5}, []int{7, 3}, true, false, "MatMul"},
		{"transpose-b", []int{5, 7}, []int{3, 7}, false, true, "MatMul"},
		{"batched", []int{2, 4, 5}, []int{2, 5, 3}, false, false, "BatchMatMulV2"},
		{"broadcast", []int{2, 1, 4, 5}, []int{3, 5, 2}, false, false, "BatchMatMulV2"},
		{"adj-y", []int{2, 4, 5}, []int{2, 3, 5}, false, true, "BatchMatMulV2"}} {
		sc := sc
		cs = append(cs, Case{Name: sc.op + "/float32/" + sc.name, Op: sc.op, Description: "matrix products (Keras Dense, Attention, Dot)",
			Build: func(s *tfops.Scope) Graph {
				var g Graph
				at := tensorF(f, sc.a, randn(rng(91), numElems(sc.a), 1))
				bt := tensorF(f, sc.b, randn(rng(92), numElems(sc.b), 1))
				attrs := map[string]any{"T": f, "transpose_a": sc.ta, "transpose_b": sc.tb}
				if sc.op != "MatMul" {
					attrs = map[string]any{"T": f, "adj_x": sc.ta, "adj_y": sc.tb}
				}
				g.Fetches = outputs(addOp(s, sc.op, []any{feed(s, &g, "a", at), feed(s, &g, "b", bt)}, attrs, f))
				g.Want = []*tfops.Tensor{matRef(at, bt, sc.ta, sc.tb)}
				g.Tol = tol
				return g
			}})
	}
	cs = append(cs, Case{Name: "BiasAdd/float32/nhwc", Op: "BiasAdd", Description: "a bias per channel (Keras Dense and Conv use_bias)",
		Build: func(s *tfops.Scope) Graph {
			var g Graph
			xt := tensorF(f, []int{2, 3, 4}, randn(rng(93), 24, 1))
			bt := tensorF(f, []int{4}, randn(rng(94), 4, 1))
			g.Fetches = outputs(addOp(s, "BiasAdd", []any{feed(s, &g, "x", xt), feed(s, &g, "b", bt)}, map[string]any{"T": f, "data_format": "NHWC"}, f))
			g.Want = []*tfops.Tensor{refBinary(xt, tfops.MustFromSlice(append([]float32{}, bt.Float32s()...), 1, 1, 4), func(a, b float64) float64 { return a + b })}
			g.Tol = Elementwise
			return g
		}})
	return cs
}

// bcastSource2 maps a broadcast batch index to an operand's batch index
// (right-aligned, size-1 dimensions reading index 0).
func bcastSource2(idx, dims []int) []int {
	out := make([]int, len(dims))
	off := len(idx) - len(dims)
	for d := range dims {
		if dims[d] != 1 {
			out[d] = idx[off+d]
		}
	}
	return out
}

// bnTrainingCases: FusedBatchNormV3 with is_training (tf.keras 2.x
// LayerNormalization's fused path: NCHW [1, rows, cols, 1], scale 1,
// offset 0, no running statistics), with batch statistics from float64
// loops.
func bnTrainingCases() []Case {
	f := tfops.Float
	var cs []Case
	for _, sc := range []struct {
		name, df string
		dims     []int
		factor   float32
		notInTF1 string
	}{
		{"training-nhwc", "NHWC", []int{2, 3, 4, 5}, 1, ""},
		{"training-layernorm-nchw", "NCHW", []int{1, 6, 8, 1}, 1, "its CPU FusedBatchNorm trains on NHWC only (\"The CPU implementation of FusedBatchNorm only supports NHWC tensor format for now\")"},
		{"training-avg-factor", "NHWC", []int{2, 2, 3, 4}, 0.25, "FusedBatchNormV3 has no exponential_avg_factor attr before TensorFlow 2.2"},
	} {
		sc := sc
		cs = append(cs, Case{Name: "FusedBatchNormV3/float32/" + sc.name, Op: "FusedBatchNormV3", NotInTF1: sc.notInTF1,
			Description: "batch statistics per channel (is_training), " + sc.df,
			Build: func(s *tfops.Scope) Graph {
				var g Graph
				depth, inner := sc.dims[3], 1
				if sc.df == "NCHW" {
					depth, inner = sc.dims[1], sc.dims[2]*sc.dims[3]
				}
				xt := tensorF(f, sc.dims, randn(rng(98), numElems(sc.dims), 3))
				r := rng(99)
				sct, oft := tensorF(f, []int{depth}, randn(r, depth, 1)), tensorF(f, []int{depth}, randn(r, depth, 1))
				mt, vt := tensorF(f, []int{0}, nil), tensorF(f, []int{0}, nil)
				if sc.factor != 1 {
					mt, vt = tensorF(f, []int{depth}, randn(r, depth, 1)), tensorF(f, []int{depth}, randu(r, depth, 0.5, 2))
				}
				eps := float32(1e-3)
				attrs := map[string]any{"T": f, "U": f, "epsilon": eps, "is_training": true, "data_format": sc.df}
				if sc.factor != 1 {
					attrs["exponential_avg_factor"] = sc.factor
				}
				o := addOp(s, "FusedBatchNormV3", []any{feed(s, &g, "x", xt), feed(s, &g, "scale", sct), feed(s, &g, "offset", oft), feed(s, &g, "mean", mt), feed(s, &g, "var", vt)},
					attrs, f, f, f, f, f, f)
				g.Fetches = outputs(o)[:5]
				xv := floats(xt)
				n := float64(len(xv) / depth)
				mean, vr := make([]float64, depth), make([]float64, depth)
				for i, v := range xv {
					mean[(i/inner)%depth] += v / n
				}
				for i, v := range xv {
					q := (i / inner) % depth
					vr[q] += (v - mean[q]) * (v - mean[q]) / n
				}
				y := make([]float64, len(xv))
				for i, v := range xv {
					q := (i / inner) % depth
					y[i] = (v-mean[q])/math.Sqrt(vr[q]+float64(eps))*floats(sct)[q] + floats(oft)[q]
				}
				fac := float64(sc.factor)
				newMean, newVar := make([]float64, depth), make([]float64, depth)
				for q := range newMean {
					newMean[q], newVar[q] = mean[q], vr[q]*n/(n-1)
					if sc.factor != 1 {
						newMean[q] = (1-fac)*floats(mt)[q] + fac*mean[q]
						newVar[q] = (1-fac)*floats(vt)[q] + fac*vr[q]*n/(n-1)
					}
				}
				g.Want = []*tfops.Tensor{tensorFlushed(f, sc.dims, y), tensorFlushed(f, []int{depth}, newMean), tensorFlushed(f, []int{depth}, newVar),
					tensorFlushed(f, []int{depth}, mean), tensorFlushed(f, []int{depth}, vr)}
				g.Tol = Tolerance{ULP: 4, Rel: 1e-5, Abs: 1e-5}
				return g
			}})
	}
	return cs
}

// groupedConvRef is Conv2D with the filter in-depth x's depth / groups:
// output channel o reads input channels [g·cg, (g+1)·cg) of its group g.
func groupedConvRef(x, f *tfops.Tensor, s int, padding string) *tfops.Tensor {
	xs, fs := x.Shape(), f.Shape()
	cg, oc := fs[2], fs[3]
	og := oc / (xs[3] / cg)
	wh, ww := refWindow(xs[1], fs[0], s, 1, padding), refWindow(xs[2], fs[1], s, 1, padding)
	dims := []int{xs[0], wh.out, ww.out, oc}
	xv, fv := floats(x), floats(f)
	out := make([]float64, numElems(dims))
	for k := range out {
		idx := unravel(k, dims)
		g := idx[3] / og
		for a := 0; a < fs[0]; a++ {
			for b := 0; b < fs[1]; b++ {
				y, z := idx[1]*s+a-wh.pad, idx[2]*s+b-ww.pad
				if y < 0 || y >= xs[1] || z < 0 || z >= xs[2] {
					continue
				}
				for q := 0; q < cg; q++ {
					out[k] += xv[ravel([]int{idx[0], y, z, g*cg + q}, xs)] * fv[ravel([]int{a, b, q, idx[3]}, fs)]
				}
			}
		}
	}
	return tensorFlushed(x.DType(), dims, out)
}

// groupedConvCases: Keras Conv2D(groups=g) (TensorFlow 2's grouped CPU
// convolution), alone and followed by BiasAdd and Relu (which the Go
// engine fuses).
func groupedConvCases() []Case {
	f := tfops.Float
	const why = "\"The Conv2D op currently does not support grouped convolutions on the CPU\" (TensorFlow 2 added LaunchGroupedConvolution)"
	var cs []Case
	for _, sc := range []struct {
		name    string
		x, fd   []int
		s       int
		pad     string
		biasAct bool
	}{{"groups2-same", []int{2, 6, 5, 4}, []int{3, 3, 2, 6}, 1, "SAME", false},
		{"groups3-valid-stride2", []int{1, 7, 7, 6}, []int{3, 3, 2, 3}, 2, "VALID", false},
		{"groups2-bias-relu", []int{1, 5, 6, 4}, []int{3, 3, 2, 4}, 1, "SAME", true}} {
		sc := sc
		cs = append(cs, Case{Name: "Conv2D/float32/" + sc.name, Op: "Conv2D", NotInTF1: why,
			Description: "grouped convolution (Keras Conv2D groups)",
			Build: func(s *tfops.Scope) Graph {
				var g Graph
				xt := tensorF(f, sc.x, randn(rng(114), numElems(sc.x), 1))
				ft := tensorF(f, sc.fd, randn(rng(115), numElems(sc.fd), 0.5))
				conv := addOp(s, "Conv2D", []any{feed(s, &g, "x", xt), feed(s, &g, "f", ft)}, nhwcAttrs(f, sc.s, 1, sc.pad), f)
				want := groupedConvRef(xt, ft, sc.s, sc.pad)
				g.Fetches = outputs(conv)
				if sc.biasAct && conv != nil {
					bt := tensorF(f, []int{sc.fd[3]}, randn(rng(116), sc.fd[3], 1))
					ba := addOp(s, "BiasAdd", []any{conv.Output(0), feed(s, &g, "b", bt)}, map[string]any{"T": f, "data_format": "NHWC"}, f)
					if ba == nil {
						return g
					}
					g.Fetches = outputs(addOp(s, "Relu", []any{ba.Output(0)}, map[string]any{"T": f}, f))
					wv, bv := floats(want), floats(bt)
					for i := range wv {
						wv[i] = math.Max(wv[i]+bv[i%len(bv)], 0)
					}
					want = tensorFlushed(f, want.Shape(), wv)
				}
				g.Want = []*tfops.Tensor{want}
				g.Tol = Tolerance{ULP: 4, Rel: 1e-5, Abs: 1e-5}
				return g
			}})
	}
	return cs
}
