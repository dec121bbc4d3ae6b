package goengine

import (
	"cmp"
	"math"
	"slices"

	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
	"github.com/tfseg/tfseg/tfops"
)

// Softmax, LogSoftmax and TopKV2.

func init() {
	Register("Softmax", softmaxKernel(false))
	Register("LogSoftmax", softmaxKernel(true))
	RegisterOp("TopKV2", OpDef{Kernel: topKKernel, OutputArgs: []OutputArg{{Name: "values"}, {Name: "indices"}}})
}

// softmaxKernel computes, per row of the last axis, with m = max(x):
// softmax = exp(x - m) / Σ exp(x - m) and log_softmax = (x - m) - log Σ
// exp(x - m), as TensorFlow's SoftmaxEigenImpl does: float32 Softmax in
// float32 as TensorFlow computes it (softmaxRows32), LogSoftmax in float64
// for float32 inputs (rounded once).
func softmaxKernel(isLog bool) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		if err := c.CheckInputs(1); err != nil {
			return nil, err
		}
		x := dazTensor(c.Inputs[0])
		if x.Rank() < 1 {
			return nil, c.Errorf("logits must have >= 1 dimension, got %s", dimsString(x.Shape()))
		}
		// In place when the logits die here (a segmentation head's
		// 2x512x512x124 logits are 248 MiB): each row is read whole
		// before any of it is written.
		var out *tfops.Tensor
		var err error
		if d, ok := c.reuseInput(0); ok && x.DType() == tfops.Float {
			out, err = tfops.FromSlice(d, x.Shape()...)
		} else {
			out, err = c.AllocUninit(x.DType(), x.Shape()...)
		}
		if err != nil {
			return nil, err
		}
		n := x.Shape()[x.Rank()-1]
		switch xs := x.Data().(type) {
		case []float32:
			if !isLog {
				softmaxRows32(c, xs, out.Float32s(), n)
				break
			}
			softmaxRows(c, xs, out.Float32s(), n, isLog)
		case []float64:
			softmaxRows(c, xs, out.Float64s(), n, isLog)
		default:
			return nil, c.unsupportedDType(x.DType())
		}
		ftz(out.Data())
		return []*tfops.Tensor{out}, nil
	}
}

func softmaxRows[T float](c *Context, xs, o []T, n int, isLog bool) {
	if n == 0 {
		return
	}
	rows := len(xs) / n
	c.parallel(rows, max(1, grainHeavy/n), func(lo, hi int) {
		// e holds a row's exp(x - m), computed once per element (the
		// U-Net's 2-class rows spent half their time on a second Exp).
		var small [16]float64
		e := small[:]
		if n > len(small) {
			e = make([]float64, n)
		}
		e = e[:n]
		for r := lo; r < hi; r++ {
			x, y := xs[r*n:(r+1)*n], o[r*n:(r+1)*n]
			m := math.Inf(-1)
			for _, v := range x {
				m = math.Max(m, float64(v)) // NaN propagates
			}
			sum := 0.0
			for i, v := range x {
				// exp(0) is 1 exactly: the row's maximum needs no Exp.
				if d := float64(v) - m; d == 0 {
					e[i] = 1
				} else {
					e[i] = math.Exp(d)
				}
				sum += e[i]
			}
			if isLog {
				ls := math.Log(sum)
				for i, v := range x {
					y[i] = fromF64[T]((float64(v) - m) - ls)
				}
				continue
			}
			for i := range y {
				y[i] = fromF64[T](e[i] / sum)
			}
		}
	})
}

// softmaxRows32 computes float32 Softmax rows of n as TensorFlow's
// SoftmaxEigenImpl does (tensorflow/core/kernels/softmax_op_functor.h):
// with m = max(x), e = exp(x - m) and y = e · (1 / Σ e), each step a
// float32 operation, the exps by the vector exp kernel (exp32), a block of
// rows at a time. The row sum is taken in float64 and rounded once (for
// two classes, the U-Net's, that is the float32 sum e₀ + e₁ itself).
func softmaxRows32(c *Context, xs, o []float32, n int) {
	if n == 0 {
		return
	}
	rows := len(xs) / n
	c.parallel(rows, max(softmaxBlockRows(n), grainHeavy/n), func(lo, hi int) {
		softmaxBlocks32(vec.Current(), xs[lo*n:hi*n], o[lo*n:hi*n], n)
	})
}

// softmaxBlockRows is the number of rows of n softmaxBlocks32 hands
// softmaxBlock32 at a time (one exp call).
func softmaxBlockRows(n int) int { return max(1, 1024/n) }

// softmaxBlocks32 computes the softmax of x's rows of n into y (which may
// be x), softmaxBlockRows(n) rows at a time.
func softmaxBlocks32(k *vec.Kernels, x, y []float32, n int) {
	block := softmaxBlockRows(n) * n
	for r0 := 0; r0 < len(x); r0 += block {
		r1 := min(len(x), r0+block)
		softmaxBlock32(k, x[r0:r1], y[r0:r1], n)
	}
}

// softmaxBlock32 is softmaxRows32's work on a block of rows of n: x's
// softmax in y (which may be x).
func softmaxBlock32(k *vec.Kernels, x, y []float32, n int) {
	if n == 2 {
		softmaxPairs32(k, x, y)
		return
	}
	rows := len(x) / n
	for r := 0; r < rows; r++ {
		row, d := x[r*n:(r+1)*n], y[r*n:(r+1)*n]
		m := row[0]
		for _, v := range row[1:] {
			if v > m || v != v && m == m { // NaN propagates
				m = v
			}
		}
		for i, v := range row {
			d[i] = v - m
		}
	}
	y = y[:rows*n]
	k.Exp(y, y)
	for r := 0; r < rows; r++ {
		d := y[r*n : (r+1)*n]
		sum := 0.0
		for _, v := range d {
			sum += float64(v)
		}
		inv := 1 / float32(sum)
		for i := range d {
			d[i] *= inv
		}
	}
}

// softmaxPairs32 is softmaxRows32's loop for rows of two (a two-class
// segmentation's output, where the general loop's per-row slicing cost
// more than the exps): the same float32 steps, m = max(x₀, x₁) (NaN
// propagating), e = exp(x - m), y = e · (1 / (e₀ + e₁)); the float32 sum
// e₀ + e₁ is the float64 sum rounded once, as the general loop takes it.
func softmaxPairs32(k *vec.Kernels, x, y []float32) {
	y = y[:len(x)]
	v := 0 // floats done by the vector passes
	if softmaxPairsVec && len(x) >= 16 {
		v = len(x) &^ 15
		softmaxPairsShiftAVX512(&x[0], &y[0], v)
	}
	for i := v; i+1 < len(x); i += 2 {
		a, b := x[i], x[i+1]
		m := a
		if b > m || b != b && m == m {
			m = b
		}
		y[i], y[i+1] = a-m, b-m
	}
	k.Exp(y, y)
	if v > 0 {
		softmaxPairsScaleAVX512(&y[0], v)
	}
	for i := v; i+1 < len(y); i += 2 {
		inv := 1 / (y[i] + y[i+1])
		y[i] *= inv
		y[i+1] *= inv
	}
}

// topKKernel returns the k largest values of each row of the last axis and
// their indices, in descending order; equal values keep their index order.
func topKKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	k, err := c.scalarIndexInput(1, "k")
	if err != nil {
		return nil, err
	}
	if k < 0 {
		return nil, c.Errorf("Need k >= 0, got %d", k)
	}
	if x.Rank() < 1 {
		return nil, c.Errorf("input must be >= 1-D, got shape %s", dimsString(x.Shape()))
	}
	n := x.Shape()[x.Rank()-1]
	if int64(n) < k {
		return nil, c.Errorf("input must have at least k columns. Had %d, needed %d", n, k)
	}
	dims := append([]int{}, x.Shape()...)
	dims[len(dims)-1] = int(k)
	vals, err := c.AllocUninit(x.DType(), dims...) // k ≤ n values per row are written
	if err != nil {
		return nil, err
	}
	idx, err := c.Alloc(tfops.Int32, dims...)
	if err != nil {
		return nil, err
	}
	// Order by the values as TensorFlow's comparisons see them (denormals
	// as zeros) but return the values themselves.
	keys := dazTensor(x)
	switch xs := x.Data().(type) {
	case []float32:
		if n >= radixMinRow && k > 1 {
			topKRadix32(c, keys.Float32s(), xs, vals.Float32s(), idx.Int32s(), n, int(k))
			break
		}
		topKRows(c, keys.Float32s(), xs, vals.Float32s(), idx.Int32s(), n, int(k))
	case []float64:
		topKRows(c, keys.Float64s(), xs, vals.Float64s(), idx.Int32s(), n, int(k))
	case []int32:
		topKRows(c, xs, xs, vals.Int32s(), idx.Int32s(), n, int(k))
	case []int64:
		topKRows(c, xs, xs, vals.Int64s(), idx.Int32s(), n, int(k))
	default:
		return nil, c.unsupportedDType(x.DType())
	}
	return []*tfops.Tensor{vals, idx}, nil
}

func topKRows[T number](c *Context, keys, xs, vals []T, idx []int32, n, k int) {
	if n == 0 || k == 0 {
		return
	}
	rows := len(xs) / n
	c.parallel(rows, max(1, grainHeavy/n), func(lo, hi int) {
		order := make([]int32, n)
		for r := lo; r < hi; r++ {
			x, row := keys[r*n:(r+1)*n], xs[r*n:(r+1)*n]
			for i := range order {
				order[i] = int32(i)
			}
			byValue := func(a, b int32) int {
				if c := cmp.Compare(x[b], x[a]); c != 0 {
					return c
				}
				return cmp.Compare(a, b)
			}
			if k == 1 {
				best := int32(0)
				for i := int32(1); i < int32(n); i++ {
					if byValue(i, best) < 0 {
						best = i
					}
				}
				order[0] = best
			} else {
				slices.SortFunc(order, byValue)
			}
			for j := 0; j < k; j++ {
				vals[r*k+j] = row[order[j]]
				idx[r*k+j] = order[j]
			}
		}
	})
}
