package goengine

import (
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// GatherV2 and OneHot, and the radix sort behind TopKV2 on float32 rows.

func init() {
	Register("GatherV2", gatherV2Kernel)
	Register("OneHot", oneHotKernel)
}

// gatherV2Kernel gathers slices of params along axis. With batch_dims b,
// params and indices share their first b dimensions; for each batch index
// the gather reads only that batch's slice. Out-of-range indices are an
// error, as on TensorFlow's CPU.
func gatherV2Kernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	params, indices := c.Inputs[0], c.Inputs[1]
	if d := indices.DType(); d != tfops.Int32 && d != tfops.Int64 {
		return nil, c.Errorf("indices must be int32 or int64, got %v", d)
	}
	axis, err := c.scalarIndexInput(2, "axis")
	if err != nil {
		return nil, err
	}
	bd, err := c.AttrIntOr("batch_dims", 0)
	if err != nil {
		return nil, err
	}
	return c.gather(params, indices, axis, bd)
}

// gather is GatherV2 of params along axis with batch_dims bd (also
// ResourceGather's, whose axis is batch_dims).
func (c *Context) gather(params, indices *tfops.Tensor, axis, bd int64) ([]*tfops.Tensor, error) {
	pr, ir := params.Rank(), indices.Rank()
	if bd < 0 {
		bd += int64(ir)
	}
	if bd < 0 || bd > int64(ir) {
		return nil, c.Errorf("batch_dims (%d) must be in range [%d, %d)", bd, -ir, ir+1)
	}
	a, err := c.normAxis(axis, pr, "Expected axis in the range")
	if err != nil {
		return nil, err
	}
	b := int(bd)
	if b > a {
		return nil, c.Errorf("batch_dims (%d) must be less than or equal to axis (%d)", b, a)
	}
	for d := 0; d < b; d++ {
		if params.Shape()[d] != indices.Shape()[d] {
			return nil, c.Errorf("params.shape[%d]: %d should be equal to indices.shape[%d]: %d",
				d, params.Shape()[d], d, indices.Shape()[d])
		}
	}
	ps := params.Shape()
	dims := append(append(append([]int{}, ps[:a]...), indices.Shape()[b:]...), ps[a+1:]...)
	out, err := c.Alloc(params.DType(), dims...)
	if err != nil {
		return nil, err
	}
	batch := tfops.NumElements(ps[:b])
	outer := tfops.NumElements(ps[b:a])
	limit := ps[a]
	inner := tfops.NumElements(ps[a+1:])
	nidx := tfops.NumElements(indices.Shape()[b:])
	if i, v, bad := firstOutOfRange(indices, limit); bad {
		return nil, c.Errorf("indices[%s] = %d is not in [0, %d)", multiIndex(i, indices.Shape()), v, limit)
	}
	if out.NumElements() == 0 {
		return []*tfops.Tensor{out}, nil
	}
	if inner == 1 {
		if ps, ok := params.Data().([]float32); ok {
			// One element per row (lovasz_hinge's labels in sorted order).
			o := out.Float32s()
			switch ix := indices.Data().(type) {
			case []int32:
				gatherElems(c, o, ps, ix, nidx, outer, limit)
			case []int64:
				gatherElems(c, o, ps, ix, nidx, outer, limit)
			}
			return []*tfops.Tensor{out}, nil
		}
	}
	idx := indexValues(indices)
	// Row (bi, o, j) of the output copies params row (bi, o, idx[bi, j]).
	rows := batch * outer * nidx
	src := make([]int, rows)
	for r := range src {
		j := r % nidx
		bo := r / nidx
		bi := bo / outer
		src[r] = (bo*limit + int(idx[bi*nidx+j])) * inner
	}
	copyRows(c, out, params, src, inner)
	return []*tfops.Tensor{out}, nil
}

// firstOutOfRange returns the first index of an int32/int64 tensor
// outside [0, limit), with its value.
func firstOutOfRange(t *tfops.Tensor, limit int) (int, int64, bool) {
	switch v := t.Data().(type) {
	case []int32:
		for i, x := range v {
			if x < 0 || int64(x) >= int64(limit) {
				return i, int64(x), true
			}
		}
	case []int64:
		for i, x := range v {
			if x < 0 || x >= int64(limit) {
				return i, x, true
			}
		}
	}
	return 0, 0, false
}

// gatherElems is the gather of one-element rows: output element r =
// (bo, j) is params[bo·limit + idx[bi·nidx + j]] with bi = bo / outer.
func gatherElems[T any, I int32 | int64](c *Context, o, ps []T, idx []I, nidx, outer, limit int) {
	c.parallel(len(o), grainCheap, func(lo, hi int) {
		for r := lo; r < hi; {
			bo := r / nidx
			j0 := r - bo*nidx
			n := min(hi-r, nidx-j0)
			src := ps[bo*limit : (bo+1)*limit]
			ix := idx[(bo/outer)*nidx+j0 : (bo/outer)*nidx+j0+n]
			dst := o[r : r+n]
			for k, i := range ix {
				dst[k] = src[i]
			}
			r += n
		}
	})
}

// copyRows sets row r of dst (rows of n elements) to src's elements
// [from[r], from[r]+n).
func copyRows(c *Context, dst, src *tfops.Tensor, from []int, n int) {
	elemsOf(dst).rowCopy(c, dst.Data(), src.Data(), from, n)
}

func rowCopy[T any](c *Context, dst, src []T, from []int, n int) {
	c.parallel(len(from), max(1, grainCheap/max(n, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			copy(dst[r*n:(r+1)*n], src[from[r]:from[r]+n])
		}
	})
}

// pixelRows sets row r of dst, len(cols) pixels of n elements, to the
// pixels cols[k] of the source row that starts at src[rows[r]]: rows whose
// pixels are picked from other rows, as the nearest-neighbour resize
// makes them (an index per row and per column, not per element).
func pixelRows[T any](c *Context, dst, src []T, rows, cols []int, n int) {
	w := len(cols) * n
	c.parallel(len(rows), max(1, grainCheap/max(w, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			d, s := dst[r*w:(r+1)*w], src[rows[r]:]
			if n == 1 {
				for k, x := range cols {
					d[k] = s[x]
				}
				continue
			}
			for k, x := range cols {
				copy(d[k*n:(k+1)*n], s[x*n:(x+1)*n])
			}
		}
	})
}

// oneHotKernel: output[p, d, s] = on if indices[p, s] == d else off, where
// the depth axis d sits at attr axis (-1: last).
func oneHotKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(4); err != nil {
		return nil, err
	}
	indices, on, off := c.Inputs[0], c.Inputs[2], c.Inputs[3]
	var idx []int64
	if u, ok := indices.Data().([]uint8); ok {
		idx = make([]int64, len(u))
		for i, v := range u {
			idx[i] = int64(v)
		}
	} else {
		var err error
		if idx, err = c.indexInput(0, "indices"); err != nil {
			return nil, err
		}
	}
	depth, err := c.scalarIndexInput(1, "depth")
	if err != nil {
		return nil, err
	}
	if depth < 0 {
		return nil, c.Errorf("depth must be non-negative, got: %d", depth)
	}
	if on.NumElements() != 1 || on.Rank() != 0 || off.NumElements() != 1 || off.Rank() != 0 {
		return nil, c.Errorf("on_value and off_value must be scalars, got shapes %s and %s", dimsString(on.Shape()), dimsString(off.Shape()))
	}
	if on.DType() != off.DType() {
		return nil, c.Errorf("on_value is %v but off_value is %v", on.DType(), off.DType())
	}
	axis, err := c.AttrIntOr("axis", -1)
	if err != nil {
		return nil, err
	}
	r := indices.Rank()
	if axis < -1 || axis > int64(r) {
		return nil, c.Errorf("Expected axis to be -1 or between [0, %d). But received: %d", r+1, axis)
	}
	a := int(axis)
	if a == -1 {
		a = r
	}
	dims := append(append(append([]int{}, indices.Shape()[:a]...), int(depth)), indices.Shape()[a:]...)
	out, err := c.Alloc(on.DType(), dims...)
	if err != nil {
		return nil, err
	}
	prefix := tfops.NumElements(indices.Shape()[:a])
	suffix := tfops.NumElements(indices.Shape()[a:])
	// Fill with off (broadcast), then set the on positions.
	n := out.NumElements()
	copyStrided(c, out, off, []int{n}, stridedView{0, []int{1}}, stridedView{0, []int{0}})
	var pos []int
	d := int(depth)
	for p := 0; p < prefix; p++ {
		for s := 0; s < suffix; s++ {
			v := idx[p*suffix+s]
			if v >= 0 && v < depth {
				pos = append(pos, (p*d+int(v))*suffix+s)
			}
		}
	}
	zero := make([]int, len(pos))
	scatter(out, on, pos, zero)
	return []*tfops.Tensor{out}, nil
}

// scatter sets dst[pos[i]] = src[from[i]] (dst and src of one dtype).
func scatter(dst, src *tfops.Tensor, pos, from []int) {
	elemsOf(dst).scatter(dst.Data(), src.Data(), pos, from)
}

// radixMinRow is the row length from which TopKV2 on float32 sorts by radix
// (topKRadix32) rather than by comparisons.
const radixMinRow = 64

// topKRadix32 is topKRows for float32: each row is ordered by a stable
// least-significant-digit radix sort on a 32-bit key that orders the
// values descending (the order TopKV2 returns), so equal values keep their
// index order, as TensorFlow returns them. keys are the values as compared
// (denormals read as zeros); vals receives the values themselves. Rows are
// sorted in parallel. The order is that of topKRows's comparison: NaN
// after every number, -0 equal to +0.
func topKRadix32(c *Context, keys, xs, vals []float32, idx []int32, n, k int) {
	rows := len(xs) / n
	c.parallel(rows, 1, func(lo, hi int) {
		a, tmp := make([]uint64, n), make([]uint64, n)
		for r := lo; r < hi; r++ {
			key, row := keys[r*n:(r+1)*n], xs[r*n:(r+1)*n]
			for i, x := range key {
				a[i] = uint64(descKey32(x))<<32 | uint64(i)
			}
			s := radixSortKeys(a, tmp)
			vo, io := vals[r*k:(r+1)*k], idx[r*k:(r+1)*k]
			for j := range vo {
				i := int32(uint32(s[j]))
				vo[j] = row[i]
				io[j] = i
			}
		}
	})
}

// descKey32 maps x to a key whose ascending order is x's descending order:
// larger numbers get smaller keys, -0 and +0 the same key, NaN (any) the
// largest.
func descKey32(x float32) uint32 {
	if x != x {
		return math.MaxUint32
	}
	b := math.Float32bits(x)
	if b == 1<<31 {
		b = 0 // -0 sorts with +0
	}
	if b&(1<<31) != 0 {
		b = ^b // negative: larger magnitude is smaller
	} else {
		b |= 1 << 31
	}
	return ^b
}

// radixSortKeys sorts a by its upper 32 bits (a key; the lower half is a
// payload, the element's index), stably, by four passes of one byte, least
// significant first, skipping bytes all keys share; tmp is scratch of the
// same length. It returns the sorted slice (a or tmp).
func radixSortKeys(a, tmp []uint64) []uint64 { return lsdSortKeys(a, tmp, 4) }

// lsdSortKeys sorts a by key bytes 0..bytes-1 (bits 32 up), least
// significant first, stably (short slices by insertion).
func lsdSortKeys(a, tmp []uint64, bytes int) []uint64 {
	n := len(a)
	if n <= 32 {
		for i := 1; i < n; i++ {
			v := a[i]
			j := i
			for ; j > 0 && a[j-1] > v; j-- {
				a[j] = a[j-1]
			}
			a[j] = v
		}
		return a
	}
	var hist [4][256]int
	for _, v := range a {
		hist[0][v>>32&255]++
		hist[1][v>>40&255]++
		hist[2][v>>48&255]++
		hist[3][v>>56]++
	}
	for p := 0; p < bytes; p++ {
		shift := uint(32 + 8*p)
		h := &hist[p]
		if h[a[0]>>shift&255] == n {
			continue // one bucket: this byte does not reorder anything
		}
		sum := 0
		for b := range h {
			c := h[b]
			h[b] = sum
			sum += c
		}
		for _, v := range a {
			d := v >> shift & 255
			tmp[h[d]] = v
			h[d]++
		}
		a, tmp = tmp, a
	}
	return a
}
