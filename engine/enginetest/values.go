package enginetest

import (
	"math"
	"math/rand/v2"

	"github.com/tfseg/tfseg/tfops"
)

// Input values and the reference helpers the cases share. The reference
// loops work on float64 (or int64) copies of the inputs and round to the
// output dtype once; broadcasting and indexing are done the obvious way,
// one multi-index at a time.

// Edge values of float32: signed zeros, denormals, the extremes, ±Inf, NaN
// and a few ordinary numbers. 1.2e-38 stands just above the smallest
// normal: at the smallest normal itself TensorFlow's flush-to-zero and its
// approximations of Tanh and Sqrt round away the last bits, which the
// dedicated underflow cases cover.
var edge32 = []float32{
	0, float32(math.Copysign(0, -1)), 1, -1, 0.5, -0.5, 2, -3, 1.5, 2.5, -2.5,
	math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1e-40, -1e-40, // denormals
	1.2e-38, 1e-30, -1e-30, 1e-7, -1e-7, 0.1, -0.1, 0.99999994, 1.0000001,
	15, -15, 20, -20, 88, -88, 100, -100, 1e10, -1e10, 1e30, -1e30,
	3.4028235e38, -3.4028235e38,
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
}

// Edge values of float64.
var edge64 = []float64{
	0, math.Copysign(0, -1), 1, -1, 0.5, -0.5, 2, -3, 1.5, 2.5, -2.5,
	math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 1e-310, -1e-310,
	2.3e-308, 1e-200, -1e-200, 1e-16, -1e-16, 0.1, -0.1, 0.9999999999999999, 1.0000000000000002,
	15, -15, 20, -20, 88, -88, 100, -100, 710, -745, 1e100, -1e100, 1e300, -1e300,
	math.MaxFloat64, -math.MaxFloat64,
	math.Inf(1), math.Inf(-1), math.NaN(),
}

// Edge values of the integer types (as int64; int32 ones are in range).
var edgeI32 = []int64{0, 1, -1, 2, -2, 3, -7, 7, 100, -100, 46341, math.MaxInt32, math.MinInt32, math.MaxInt32 - 1, math.MinInt32 + 1}
var edgeI64 = []int64{0, 1, -1, 2, -2, 3, -7, 7, 100, -100, 3037000500, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1}

// withoutNaN drops the NaNs from v.
func withoutNaN(v []float64) []float64 {
	var out []float64
	for _, e := range v {
		if !math.IsNaN(e) {
			out = append(out, e)
		}
	}
	return out
}

// rng returns the fixed-seed source every case draws from; seed separates
// the cases so that adding one does not change the others.
func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x7f4a7c15)) }

// randn draws n normal values scaled by scale.
func randn(r *rand.Rand, n int, scale float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = r.NormFloat64() * scale
	}
	return v
}

// randu draws n uniform values in [lo, hi).
func randu(r *rand.Rand, n int, lo, hi float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = lo + (hi-lo)*r.Float64()
	}
	return v
}

// randi draws n integers in [lo, hi).
func randi(r *rand.Rand, n int, lo, hi int64) []int64 {
	v := make([]int64, n)
	for i := range v {
		v[i] = lo + r.Int64N(hi-lo)
	}
	return v
}

// tensorF builds a float tensor of dtype d (Float or Double) from float64
// values, rounding each once.
func tensorF(d tfops.DType, dims []int, v []float64) *tfops.Tensor {
	switch d {
	case tfops.Float:
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		return tfops.MustFromSlice(f, dims...)
	case tfops.Double:
		return tfops.MustFromSlice(append([]float64{}, v...), dims...)
	}
	panic("enginetest: tensorF: not a float dtype: " + d.String())
}

// tensorI builds an integer tensor of dtype d (Int32 or Int64) from int64
// values, wrapping to int32 like a C cast.
func tensorI(d tfops.DType, dims []int, v []int64) *tfops.Tensor {
	switch d {
	case tfops.Int32:
		f := make([]int32, len(v))
		for i, x := range v {
			f[i] = int32(x)
		}
		return tfops.MustFromSlice(f, dims...)
	case tfops.Int64:
		return tfops.MustFromSlice(append([]int64{}, v...), dims...)
	}
	panic("enginetest: tensorI: not an integer dtype: " + d.String())
}

func tensorB(dims []int, v []bool) *tfops.Tensor {
	return tfops.MustFromSlice(append([]bool{}, v...), dims...)
}

// floats returns a numeric tensor's elements as float64s.
func floats(t *tfops.Tensor) []float64 {
	v, ok := t.AsFloat64s()
	if !ok {
		panic("enginetest: floats: unsupported dtype " + t.DType().String())
	}
	return v
}

// ints returns an integer tensor's elements as int64s.
func ints(t *tfops.Tensor) []int64 {
	out := make([]int64, 0, t.NumElements())
	switch v := t.Data().(type) {
	case []int32:
		for _, e := range v {
			out = append(out, int64(e))
		}
	case []int64:
		out = append(out, v...)
	default:
		panic("enginetest: ints: unsupported dtype " + t.DType().String())
	}
	return out
}

// numElems is the product of dims.
func numElems(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// unravel returns the multi-index of flat index i in dims.
func unravel(i int, dims []int) []int {
	idx := make([]int, len(dims))
	for d := len(dims) - 1; d >= 0; d-- {
		if dims[d] > 0 {
			idx[d] = i % dims[d]
			i /= dims[d]
		}
	}
	return idx
}

// ravel returns the flat index of multi-index idx in dims.
func ravel(idx, dims []int) int {
	f := 0
	for d := range dims {
		f = f*dims[d] + idx[d]
	}
	return f
}

// bcastDims is the NumPy broadcast of two shapes (they must be compatible).
func bcastDims(a, b []int) []int {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := range out {
		da, db := 1, 1
		if j := i - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			db = b[j]
		}
		out[i] = da
		if da == 1 {
			out[i] = db
		}
	}
	return out
}

// bcastSource maps output multi-index idx to the flat index of an input of
// shape in broadcast to the output.
func bcastSource(idx, in []int) int {
	off := len(idx) - len(in)
	f := 0
	for d, n := range in {
		k := idx[off+d]
		if n == 1 {
			k = 0
		}
		f = f*n + k
	}
	return f
}

// roundTo rounds v to dtype d's precision (identity for Double) and
// flushes a denormal result to a signed zero, as TensorFlow's float
// arithmetic does (its executor runs kernels in flush-to-zero mode).
//
// For float32 the processor decides on the result rounded to 24 bits with
// an unbounded exponent, so values just below the smallest normal that
// round up to it survive.
func roundTo(d tfops.DType, v float64) float64 {
	if d == tfops.Float {
		if v != 0 && math.Abs(v) < 0x1p-126-0x1p-151 {
			return math.Copysign(0, v)
		}
		return float64(float32(v))
	}
	return daz(d, v)
}

// daz reads a denormal of dtype d as a zero of the same sign
// (denormals-are-zero mode); other values pass unchanged.
func daz(d tfops.DType, v float64) float64 {
	tiny := 0x1p-1022
	if d == tfops.Float {
		tiny = 0x1p-126
	}
	if v != 0 && math.Abs(v) < tiny {
		return math.Copysign(0, v)
	}
	return v
}

// dazAll applies daz to every value of a float tensor (as float64s).
func dazAll(t *tfops.Tensor) []float64 {
	v := floats(t)
	if t.DType() == tfops.Float || t.DType() == tfops.Double {
		for i := range v {
			v[i] = daz(t.DType(), v[i])
		}
	}
	return v
}

// tensorFlushed is tensorF with each value rounded and flushed by roundTo.
func tensorFlushed(d tfops.DType, dims []int, v []float64) *tfops.Tensor {
	w := make([]float64, len(v))
	for i, e := range v {
		w[i] = roundTo(d, e)
	}
	return tensorF(d, dims, w)
}

// refUnary applies f elementwise to a float tensor, computing in float64
// and rounding once to the input dtype (denormals in and out flushed).
func refUnary(x *tfops.Tensor, f func(float64) float64) *tfops.Tensor {
	v := dazAll(x)
	out := make([]float64, len(v))
	for i, e := range v {
		out[i] = f(e)
	}
	return tensorFlushed(x.DType(), x.Shape(), out)
}

// refUnaryRaw applies f, which handles denormals itself, to the raw values
// of a float tensor.
func refUnaryRaw(x *tfops.Tensor, f func(float64) float64) *tfops.Tensor {
	v := floats(x)
	out := make([]float64, len(v))
	for i, e := range v {
		out[i] = f(e)
	}
	return tensorF(x.DType(), x.Shape(), out)
}

// refBinaryRaw applies f, which handles denormals itself, to the
// broadcast of the raw values of two float tensors.
func refBinaryRaw(x, y *tfops.Tensor, f func(a, b float64) float64) *tfops.Tensor {
	dims := bcastDims(x.Shape(), y.Shape())
	xv, yv := floats(x), floats(y)
	out := make([]float64, numElems(dims))
	for i := range out {
		idx := unravel(i, dims)
		out[i] = f(xv[bcastSource(idx, x.Shape())], yv[bcastSource(idx, y.Shape())])
	}
	return tensorF(x.DType(), dims, out)
}

// isDenormal reports whether v is a denormal of dtype d.
func isDenormal(d tfops.DType, v float64) bool { return v != 0 && daz(d, v) == 0 }

// refBinary applies f to the broadcast of two float tensors.
func refBinary(x, y *tfops.Tensor, f func(a, b float64) float64) *tfops.Tensor {
	dims := bcastDims(x.Shape(), y.Shape())
	xv, yv := dazAll(x), dazAll(y)
	out := make([]float64, numElems(dims))
	for i := range out {
		idx := unravel(i, dims)
		out[i] = f(xv[bcastSource(idx, x.Shape())], yv[bcastSource(idx, y.Shape())])
	}
	return tensorFlushed(x.DType(), dims, out)
}

// refBinaryInt applies f to the broadcast of two integer tensors; the
// result wraps to the dtype.
func refBinaryInt(x, y *tfops.Tensor, f func(a, b int64) int64) *tfops.Tensor {
	dims := bcastDims(x.Shape(), y.Shape())
	xv, yv := ints(x), ints(y)
	out := make([]int64, numElems(dims))
	for i := range out {
		idx := unravel(i, dims)
		out[i] = f(xv[bcastSource(idx, x.Shape())], yv[bcastSource(idx, y.Shape())])
	}
	return tensorI(x.DType(), dims, out)
}

// refCompare applies a predicate to the broadcast of two tensors of any
// numeric or bool dtype (compared as float64, or int64 for integers).
func refCompare(x, y *tfops.Tensor, fi func(a, b int64) bool, ff func(a, b float64) bool) *tfops.Tensor {
	dims := bcastDims(x.Shape(), y.Shape())
	out := make([]bool, numElems(dims))
	if x.DType() == tfops.Int32 || x.DType() == tfops.Int64 {
		xv, yv := ints(x), ints(y)
		for i := range out {
			idx := unravel(i, dims)
			out[i] = fi(xv[bcastSource(idx, x.Shape())], yv[bcastSource(idx, y.Shape())])
		}
	} else {
		xv, yv := dazAll(x), dazAll(y)
		for i := range out {
			idx := unravel(i, dims)
			out[i] = ff(xv[bcastSource(idx, x.Shape())], yv[bcastSource(idx, y.Shape())])
		}
	}
	return tensorB(dims, out)
}

// feed adds a placeholder for t named name and records its feed.
func feed(s *tfops.Scope, g *Graph, name string, t *tfops.Tensor) tfops.Output {
	p := tfops.Placeholder(s.WithOpName(name), t.DType(), t.StaticShape())
	if g.Feeds == nil {
		g.Feeds = map[tfops.Output]*tfops.Tensor{}
	}
	g.Feeds[p] = t
	return p
}

// feedUnknown is feed with a placeholder of unknown shape, so that shape
// errors surface when the graph runs rather than when it is built.
func feedUnknown(s *tfops.Scope, g *Graph, name string, t *tfops.Tensor) tfops.Output {
	p := tfops.Placeholder(s.WithOpName(name), t.DType(), tfops.UnknownShape())
	if g.Feeds == nil {
		g.Feeds = map[tfops.Output]*tfops.Tensor{}
	}
	g.Feeds[p] = t
	return p
}
