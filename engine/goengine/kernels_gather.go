package goengine

import (
	"github.com/tfseg/tfseg/tfops"
)

// GatherV2 and OneHot.

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
	idx, err := c.indexInput(1, "indices")
	if err != nil {
		return nil, err
	}
	axis, err := c.scalarIndexInput(2, "axis")
	if err != nil {
		return nil, err
	}
	bd, err := c.AttrIntOr("batch_dims", 0)
	if err != nil {
		return nil, err
	}
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
	for i, v := range idx {
		if v < 0 || v >= int64(limit) {
			return nil, c.Errorf("indices[%s] = %d is not in [0, %d)", multiIndex(i, indices.Shape()), v, limit)
		}
	}
	if out.NumElements() == 0 {
		return []*tfops.Tensor{out}, nil
	}
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
