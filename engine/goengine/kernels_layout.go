package goengine

import (
	"fmt"

	"github.com/tfseg/tfseg/tfops"
)

// Data movement shared by the layout kernels (Transpose, Tile, Slice,
// StridedSlice, Pad, Pack, Unpack, ConcatV2, BroadcastTo). Each is one
// strided copy: for every index (k_0, ..., k_{r-1}) below dims,
//
//	dst[dOff + Σ k_d*dSt[d]] = src[sOff + Σ k_d*sSt[d]]
//
// with the innermost dimension copied with copy() when both strides are 1.

// stridedView is one side of a strided copy.
type stridedView struct {
	off     int
	strides []int
}

// rowMajorStrides returns the element strides of a dense row-major shape.
func rowMajorStrides(dims []int) []int {
	st := make([]int, len(dims))
	acc := 1
	for d := len(dims) - 1; d >= 0; d-- {
		st[d] = acc
		acc *= dims[d]
	}
	return st
}

// copyStrided copies between two strided views of dst and src (same
// dtype) over dims, splitting the outer rows across the kernel's threads.
func copyStrided(c *Context, dst, src *tfops.Tensor, dims []int, dv, sv stridedView) {
	n := tfops.NumElements(dims)
	if n == 0 {
		return
	}
	// Drop size-1 dimensions and give rank-0 copies one dimension.
	var dd, ds, ss []int
	for i, d := range dims {
		if d != 1 {
			dd, ds, ss = append(dd, d), append(ds, dv.strides[i]), append(ss, sv.strides[i])
		}
	}
	if len(dd) == 0 {
		dd, ds, ss = []int{1}, []int{1}, []int{1}
	}
	elemsOf(dst).stridedCopy(c, dst.Data(), src.Data(), dd, dv.off, ds, sv.off, ss)
}

func stridedCopy[T any](c *Context, dst, src []T, dims []int, dOff int, dSt []int, sOff int, sSt []int) {
	r := len(dims)
	inner := dims[r-1]
	di, si := dSt[r-1], sSt[r-1]
	rows := tfops.NumElements(dims[:r-1])
	c.parallel(rows, max(1, grainCheap/inner), func(lo, hi int) {
		idx := make([]int, r-1)
		do, so := dOff, sOff
		rem := lo
		for d := r - 2; d >= 0; d-- {
			idx[d] = rem % dims[d]
			rem /= dims[d]
			do += idx[d] * dSt[d]
			so += idx[d] * sSt[d]
		}
		for row := lo; row < hi; row++ {
			switch {
			case di == 1 && si == 1:
				copy(dst[do:do+inner], src[so:so+inner])
			case si == 0:
				v := src[so]
				for k := 0; k < inner; k++ {
					dst[do+k*di] = v
				}
			default:
				for k := 0; k < inner; k++ {
					dst[do+k*di] = src[so+k*si]
				}
			}
			for d := r - 2; d >= 0; d-- {
				idx[d]++
				do += dSt[d]
				so += sSt[d]
				if idx[d] < dims[d] {
					break
				}
				do -= dims[d] * dSt[d]
				so -= dims[d] * sSt[d]
				idx[d] = 0
			}
		}
	})
}

// elemOps runs the typed data-movement loops on untyped tensor data; the
// per-dtype implementations are instances of elemOpsOf.
type elemOps interface {
	stridedCopy(c *Context, dst, src any, dims []int, dOff int, dSt []int, sOff int, sSt []int)
	rowCopy(c *Context, dst, src any, from []int, n int)
	pixelRows(c *Context, dst, src any, rows, cols []int, n int)
	scatter(dst, src any, pos, from []int)
	selectInto(c *Context, out, cond, x, y any, p *bcastPlan)
}

type elemOpsOf[T any] struct{}

func (elemOpsOf[T]) stridedCopy(c *Context, dst, src any, dims []int, dOff int, dSt []int, sOff int, sSt []int) {
	stridedCopy(c, dst.([]T), src.([]T), dims, dOff, dSt, sOff, sSt)
}

func (elemOpsOf[T]) rowCopy(c *Context, dst, src any, from []int, n int) {
	rowCopy(c, dst.([]T), src.([]T), from, n)
}

func (elemOpsOf[T]) pixelRows(c *Context, dst, src any, rows, cols []int, n int) {
	pixelRows(c, dst.([]T), src.([]T), rows, cols, n)
}

func (elemOpsOf[T]) scatter(dst, src any, pos, from []int) {
	d, s := dst.([]T), src.([]T)
	for i, p := range pos {
		d[p] = s[from[i]]
	}
}

func (elemOpsOf[T]) selectInto(c *Context, out, cond, x, y any, p *bcastPlan) {
	selectInto(c, out.([]T), cond.([]bool), x.([]T), y.([]T), p)
}

var elemOpsByData = map[string]elemOps{}

func init() {
	for _, e := range []struct {
		d   tfops.DType
		ops elemOps
	}{
		{tfops.Float, elemOpsOf[float32]{}}, {tfops.Double, elemOpsOf[float64]{}},
		{tfops.Int32, elemOpsOf[int32]{}}, {tfops.Int64, elemOpsOf[int64]{}},
		{tfops.Bool, elemOpsOf[bool]{}}, {tfops.Uint8, elemOpsOf[uint8]{}},
		{tfops.Int8, elemOpsOf[int8]{}}, {tfops.Int16, elemOpsOf[int16]{}},
		{tfops.Uint16, elemOpsOf[uint16]{}}, {tfops.Uint32, elemOpsOf[uint32]{}},
		{tfops.Uint64, elemOpsOf[uint64]{}}, {tfops.String, elemOpsOf[string]{}},
		{tfops.Resource, elemOpsOf[any]{}},
	} {
		z, _ := tfops.Zeros(e.d)
		elemOpsByData[fmt.Sprintf("%T", z.Data())] = e.ops
	}
}

// elemsOf returns the typed loops for t's element slice type.
func elemsOf(t *tfops.Tensor) elemOps {
	if ops, ok := elemOpsByData[fmt.Sprintf("%T", t.Data())]; ok {
		return ops
	}
	panic("goengine: no element loops for " + t.DType().String())
}
