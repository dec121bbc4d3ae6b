package goengine

import (
	"math"

	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
	"github.com/tfseg/tfseg/tfops"
)

// Reductions (Sum, Mean, Prod, Max, Min, All, Any), ArgMax/ArgMin and
// Cumsum.
//
// Accuracy: float32 Sum, Mean, Prod and Cumsum accumulate in float64 and
// round once at the end (Mean divides in float64 too), so their result is
// the correctly rounded value of the float64 computation: at least as
// accurate as TensorFlow's float32 Eigen reductions, and within 1e-6
// relative of them in practice. When the elements of each output are
// contiguous (all axes, or trailing ones), float32 Sum and Mean add them in
// the canonical blocked order of vec.SumBlock (internal/vec), in parallel over blocks
// but independent of the thread count; fused regions reduce in the same
// order, so fused and unfused results are the same bits. float64 accumulates in float64; integers
// accumulate in int64 and wrap to the dtype like TensorFlow's. Max and Min
// propagate NaN (TensorFlow 2's MaxReducer<T, PropagateNaN>); an empty
// Max is -Inf (the dtype's lowest value for integers), an empty Min +Inf,
// an empty float Mean NaN.

func init() {
	Register("Sum", reduceKernel("Sum"))
	Register("Mean", reduceKernel("Mean"))
	Register("Prod", reduceKernel("Prod"))
	Register("Max", reduceKernel("Max"))
	Register("Min", reduceKernel("Min"))
	Register("All", reduceKernel("All"))
	Register("Any", reduceKernel("Any"))
	Register("ArgMax", argKernel(true))
	Register("ArgMin", argKernel(false))
	Register("Cumsum", cumsumKernel)
}

// reducePlan describes a reduction after merging adjacent dimensions that
// are all kept or all reduced (size-1 dimensions dropped).
type reducePlan struct {
	outDims       []int
	keptD, keptSt []int // merged kept dimensions, input strides
	redD, redSt   []int // merged reduced dimensions, input strides
	count         int   // elements per output (product of reduced dims)
	lastReduced   bool
	nOut          int
}

func (c *Context) planReduce(x *tfops.Tensor, axes []int64, keep bool) (reducePlan, error) {
	r := x.Rank()
	red := make([]bool, r)
	for _, a := range axes {
		if a < -int64(r) || a >= int64(r) {
			if r == 0 && (a == 0 || a == -1) {
				continue
			}
			return reducePlan{}, c.Errorf("Invalid reduction dimension (%d for input with %d dimension(s)", a, r)
		}
		if a < 0 {
			a += int64(r)
		}
		red[a] = true
	}
	p := reducePlan{count: 1}
	st := rowMajorStrides(x.Shape())
	prev := -1 // 0 kept, 1 reduced
	for d, n := range x.Shape() {
		switch {
		case !red[d]:
			p.outDims = append(p.outDims, n)
		case keep:
			p.outDims = append(p.outDims, 1)
		}
		if red[d] {
			p.count *= n
		}
		if n == 1 {
			continue
		}
		f := 0
		if red[d] {
			f = 1
		}
		switch {
		case f == prev && f == 1:
			p.redD[len(p.redD)-1] *= n
			p.redSt[len(p.redSt)-1] = st[d]
		case f == prev:
			p.keptD[len(p.keptD)-1] *= n
			p.keptSt[len(p.keptSt)-1] = st[d]
		case f == 1:
			p.redD, p.redSt = append(p.redD, n), append(p.redSt, st[d])
		default:
			p.keptD, p.keptSt = append(p.keptD, n), append(p.keptSt, st[d])
		}
		prev = f
	}
	if p.outDims == nil {
		p.outDims = []int{}
	}
	p.lastReduced = prev == 1
	p.nOut = tfops.NumElements(p.outDims)
	return p, nil
}

// contiguous reports whether the elements of each output form one
// contiguous run of p.count elements, output i's starting at i·p.count.
func (p reducePlan) contiguous() bool {
	return p.count > 0 && p.nOut > 0 && (len(p.redD) == 0 || (p.lastReduced && len(p.redD) == 1))
}

// sumRuns32 writes the canonical sum (or mean) of each run of count
// elements of xs to o, parallel over blocks of vec.SumBlock elements; the
// block sums of a run are added in order.
func sumRuns32(c *Context, xs, o []float32, count int, mean bool) {
	k := vec.Current()
	blocks := (count + vec.SumBlock - 1) / vec.SumBlock
	part := make([]float64, len(o)*blocks)
	c.parallel(len(part), max(1, grainCheap/min(count, vec.SumBlock)), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			run, blk := j/blocks, j%blocks
			start := run*count + blk*vec.SumBlock
			part[j] = k.BlockSum(xs[start : start+min(vec.SumBlock, count-blk*vec.SumBlock)])
		}
	})
	for i := range o {
		s := 0.0
		for _, v := range part[i*blocks : (i+1)*blocks] {
			s += v
		}
		if mean {
			s /= float64(count)
		}
		o[i] = out32(s)
	}
}

// reducer folds elements of type T into an accumulator of type A.
type reducer[T, A any] struct {
	init  A
	add   func(acc A, x T) A
	final func(acc A, count int) T
}

// reduceWith runs the plan over xs.
func reduceWith[T, A any](c *Context, p reducePlan, xs []T, o []T, rd reducer[T, A]) {
	if p.nOut == 0 {
		return
	}
	if p.count == 0 || len(p.redD) == 0 {
		// Nothing (or a single element) to reduce per output: the kept
		// dimensions enumerate the input in order.
		for i := range o {
			acc := rd.init
			if p.count != 0 {
				acc = rd.add(acc, xs[keptOffset(p, i)])
			}
			o[i] = rd.final(acc, p.count)
		}
		return
	}
	if p.lastReduced {
		inner := p.redD[len(p.redD)-1]
		rows := p.count / inner
		c.parallel(p.nOut, max(1, grainCheap/p.count), func(lo, hi int) {
			idx := make([]int, len(p.redD))
			for i := lo; i < hi; i++ {
				base := keptOffset(p, i)
				acc := rd.init
				for k := range idx {
					idx[k] = 0
				}
				off := base
				for row := 0; row < rows; row++ {
					for _, v := range xs[off : off+inner] {
						acc = rd.add(acc, v)
					}
					off = nextOffset(idx, p.redD, p.redSt, off, len(p.redD)-2)
				}
				o[i] = rd.final(acc, p.count)
			}
		})
		return
	}
	// The innermost dimension is kept: accumulate whole rows of K outputs.
	k := p.keptD[len(p.keptD)-1]
	outRows := p.nOut / k
	const colBlock = 4096
	blocks := (k + colBlock - 1) / colBlock
	c.parallel(outRows*blocks, max(1, grainCheap/(p.count*min(k, colBlock))), func(lo, hi int) {
		acc := make([]A, min(k, colBlock))
		idx := make([]int, len(p.redD))
		for w := lo; w < hi; w++ {
			row, blk := w/blocks, w%blocks
			c0, c1 := blk*colBlock, min(k, (blk+1)*colBlock)
			acc := acc[:c1-c0]
			for j := range acc {
				acc[j] = rd.init
			}
			base := keptOffset(p, row*k) + c0
			for j := range idx {
				idx[j] = 0
			}
			off := base
			for r := 0; r < p.count; r++ {
				src := xs[off : off+len(acc)]
				for j, v := range src {
					acc[j] = rd.add(acc[j], v)
				}
				off = nextOffset(idx, p.redD, p.redSt, off, len(p.redD)-1)
			}
			dst := o[row*k+c0 : row*k+c1]
			for j := range dst {
				dst[j] = rd.final(acc[j], p.count)
			}
		}
	})
}

// keptOffset is the input offset of output element i.
func keptOffset(p reducePlan, i int) int {
	off := 0
	for d := len(p.keptD) - 1; d >= 0; d-- {
		off += (i % p.keptD[d]) * p.keptSt[d]
		i /= p.keptD[d]
	}
	return off
}

// nextOffset advances the odometer idx over dims[:top+1] and returns the
// updated offset.
func nextOffset(idx, dims, st []int, off, top int) int {
	for d := top; d >= 0; d-- {
		idx[d]++
		off += st[d]
		if idx[d] < dims[d] {
			return off
		}
		off -= dims[d] * st[d]
		idx[d] = 0
	}
	return off
}

func reduceKernel(op string) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		if err := c.CheckInputs(2); err != nil {
			return nil, err
		}
		x := dazTensor(c.Inputs[0])
		axes, err := c.indexInput(1, "reduction_indices")
		if err != nil {
			return nil, err
		}
		keep, err := c.AttrBoolOr("keep_dims", false)
		if err != nil {
			return nil, err
		}
		p, err := c.planReduce(x, axes, keep)
		if err != nil {
			return nil, err
		}
		out, err := c.Alloc(x.DType(), p.outDims...)
		if err != nil {
			return nil, err
		}
		ok := true
		switch xs := x.Data().(type) {
		case []float32:
			if (op == "Sum" || op == "Mean") && p.contiguous() {
				sumRuns32(c, xs, out.Float32s(), p.count, op == "Mean")
				break
			}
			ok = reduceFloat(c, op, p, xs, out.Float32s())
		case []float64:
			ok = reduceFloat(c, op, p, xs, out.Float64s())
		case []int32:
			ok = reduceInt(c, op, p, xs, out.Int32s())
		case []int64:
			ok = reduceInt(c, op, p, xs, out.Int64s())
		case []bool:
			switch op {
			case "All":
				reduceWith(c, p, xs, out.Bools(), reducer[bool, bool]{init: true,
					add: func(a, v bool) bool { return a && v }, final: func(a bool, _ int) bool { return a }})
			case "Any":
				reduceWith(c, p, xs, out.Bools(), reducer[bool, bool]{init: false,
					add: func(a, v bool) bool { return a || v }, final: func(a bool, _ int) bool { return a }})
			default:
				ok = false
			}
		default:
			ok = false
		}
		if !ok {
			return nil, c.unsupportedDType(x.DType())
		}
		ftz(out.Data())
		return []*tfops.Tensor{out}, nil
	}
}

func reduceFloat[T float](c *Context, op string, p reducePlan, xs, o []T) bool {
	round := func(a float64, _ int) T { return fromF64[T](a) }
	switch op {
	case "Sum":
		reduceWith(c, p, xs, o, reducer[T, float64]{add: func(a float64, v T) float64 { return a + float64(v) }, final: round})
	case "Mean":
		reduceWith(c, p, xs, o, reducer[T, float64]{add: func(a float64, v T) float64 { return a + float64(v) },
			final: func(a float64, n int) T { return fromF64[T](a / float64(n)) }})
	case "Prod":
		reduceWith(c, p, xs, o, reducer[T, float64]{init: 1, add: func(a float64, v T) float64 { return a * float64(v) }, final: round})
	case "Max":
		reduceWith(c, p, xs, o, reducer[T, T]{init: T(math.Inf(-1)), add: vec.MaxNaN[T], final: func(a T, _ int) T { return a }})
	case "Min":
		reduceWith(c, p, xs, o, reducer[T, T]{init: T(math.Inf(1)), add: vec.MinNaN[T], final: func(a T, _ int) T { return a }})
	default:
		return false
	}
	return true
}

func reduceInt[T integer](c *Context, op string, p reducePlan, xs, o []T) bool {
	wrap := func(a int64, _ int) T { return T(a) }
	lowest, highest := T(math.MinInt32), T(math.MaxInt32)
	if _, ok := any(lowest).(int64); ok {
		var lo, hi int64 = math.MinInt64, math.MaxInt64
		lowest, highest = T(lo), T(hi)
	}
	switch op {
	case "Sum":
		reduceWith(c, p, xs, o, reducer[T, int64]{add: func(a int64, v T) int64 { return a + int64(v) }, final: wrap})
	case "Mean":
		reduceWith(c, p, xs, o, reducer[T, int64]{add: func(a int64, v T) int64 { return a + int64(v) },
			final: func(a int64, n int) T {
				if n == 0 {
					return 0
				}
				return T(a) / T(n)
			}})
	case "Prod":
		reduceWith(c, p, xs, o, reducer[T, int64]{init: 1, add: func(a int64, v T) int64 { return a * int64(v) }, final: wrap})
	case "Max":
		reduceWith(c, p, xs, o, reducer[T, T]{init: lowest, add: maxI[T], final: func(a T, _ int) T { return a }})
	case "Min":
		reduceWith(c, p, xs, o, reducer[T, T]{init: highest, add: minI[T], final: func(a T, _ int) T { return a }})
	default:
		return false
	}
	return true
}

// axisSplit returns the sizes before, along and after axis a of dims.
func axisSplit(dims []int, a int) (outer, n, inner int) {
	return tfops.NumElements(dims[:a]), dims[a], tfops.NumElements(dims[a+1:])
}

// argKernel is ArgMax (isMax) or ArgMin: the first index of the extreme
// value along the axis; NaN counts as the extreme (NumPy's rule).
func argKernel(isMax bool) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		if err := c.CheckInputs(2); err != nil {
			return nil, err
		}
		x := dazTensor(c.Inputs[0])
		axis, err := c.scalarIndexInput(1, "dimension")
		if err != nil {
			return nil, err
		}
		a, err := c.normAxis(axis, x.Rank(), "Expected dimension in the range")
		if err != nil {
			return nil, err
		}
		outT, err := c.outIndexType("output_type")
		if err != nil {
			return nil, err
		}
		outer, n, inner := axisSplit(x.Shape(), a)
		if n == 0 {
			return nil, c.Errorf("Reduction axis %d is empty in shape %s", a, dimsString(x.Shape()))
		}
		dims := append(append([]int{}, x.Shape()[:a]...), x.Shape()[a+1:]...)
		res := make([]int64, outer*inner)
		switch xs := x.Data().(type) {
		case []float32:
			argScan(c, xs, res, outer, n, inner, isMax)
		case []float64:
			argScan(c, xs, res, outer, n, inner, isMax)
		case []int32:
			argScan(c, xs, res, outer, n, inner, isMax)
		case []int64:
			argScan(c, xs, res, outer, n, inner, isMax)
		default:
			return nil, c.unsupportedDType(x.DType())
		}
		out, err := c.indexTensor(outT, res, dims...)
		return []*tfops.Tensor{out}, err
	}
}

func argScan[T number](c *Context, xs []T, res []int64, outer, n, inner int, isMax bool) {
	c.parallel(outer*inner, max(1, grainCheap/n), func(lo, hi int) {
		for o := lo; o < hi; o++ {
			base := (o/inner)*n*inner + o%inner
			best, bi := xs[base], 0
			for k := 1; k < n && best == best; k++ {
				v := xs[base+k*inner]
				if v != v || (isMax && v > best) || (!isMax && v < best) {
					best, bi = v, k
				}
			}
			res[o] = int64(bi)
		}
	})
}

// cumsumKernel: out[..., k, ...] = Σ x[..., j, ...] over j <= k (j < k
// when exclusive; j >= k (j > k) when reverse).
func cumsumKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	x := dazTensor(c.Inputs[0])
	axis, err := c.scalarIndexInput(1, "axis")
	if err != nil {
		return nil, err
	}
	a, err := c.normAxis(axis, x.Rank(), "axis")
	if err != nil {
		return nil, err
	}
	excl, err := c.AttrBoolOr("exclusive", false)
	if err != nil {
		return nil, err
	}
	rev, err := c.AttrBoolOr("reverse", false)
	if err != nil {
		return nil, err
	}
	out, err := c.Alloc(x.DType(), x.Shape()...)
	if err != nil {
		return nil, err
	}
	outer, n, inner := axisSplit(x.Shape(), a)
	switch xs := x.Data().(type) {
	case []float32:
		if inner == 1 {
			cumsumRows32(c, xs, out.Float32s(), n, excl, rev)
			break
		}
		scan(c, xs, out.Float32s(), outer, n, inner, excl, rev, func(a float64, v float32) float64 { return a + float64(v) }, fromF64[float32])
	case []float64:
		scan(c, xs, out.Float64s(), outer, n, inner, excl, rev, func(a float64, v float64) float64 { return a + v }, func(a float64) float64 { return a })
	case []int32:
		scan(c, xs, out.Int32s(), outer, n, inner, excl, rev, func(a int64, v int32) int64 { return a + int64(v) }, func(a int64) int32 { return int32(a) })
	case []int64:
		scan(c, xs, out.Int64s(), outer, n, inner, excl, rev, func(a int64, v int64) int64 { return a + v }, func(a int64) int64 { return a })
	default:
		return nil, c.unsupportedDType(x.DType())
	}
	ftz(out.Data())
	return []*tfops.Tensor{out}, nil
}

// cumsumRows32 is scan for float32 rows of n contiguous elements (the
// innermost axis): the same float64 accumulation, without the generic
// callbacks.
func cumsumRows32(c *Context, xs, o []float32, n int, excl, rev bool) {
	if n == 0 {
		return
	}
	c.parallel(len(xs)/n, max(1, grainCheap/n), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			x, y := xs[r*n:(r+1)*n], o[r*n:(r+1)*n]
			acc := 0.0
			switch {
			case !rev && !excl:
				for i, v := range x {
					acc += float64(v)
					y[i] = out32(acc)
				}
			case !rev:
				for i, v := range x {
					y[i] = out32(acc)
					acc += float64(v)
				}
			case !excl:
				for i := n - 1; i >= 0; i-- {
					acc += float64(x[i])
					y[i] = out32(acc)
				}
			default:
				for i := n - 1; i >= 0; i-- {
					y[i] = out32(acc)
					acc += float64(x[i])
				}
			}
		}
	})
}

func scan[T, A any](c *Context, xs, o []T, outer, n, inner int, excl, rev bool, add func(A, T) A, final func(A) T) {
	if n == 0 {
		return
	}
	c.parallel(outer, max(1, grainCheap/(n*max(inner, 1))), func(lo, hi int) {
		acc := make([]A, inner)
		for ob := lo; ob < hi; ob++ {
			var zero A
			for j := range acc {
				acc[j] = zero
			}
			for s := 0; s < n; s++ {
				k := s
				if rev {
					k = n - 1 - s
				}
				off := (ob*n + k) * inner
				for j := 0; j < inner; j++ {
					if excl {
						o[off+j] = final(acc[j])
						acc[j] = add(acc[j], xs[off+j])
					} else {
						acc[j] = add(acc[j], xs[off+j])
						o[off+j] = final(acc[j])
					}
				}
			}
		}
	})
}
