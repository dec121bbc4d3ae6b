package goengine

import (
	"unsafe"

	"github.com/tfseg/tfseg/tfops"
)

// Cast converts between the numeric and bool dtypes with C++ static_cast
// semantics, as TensorFlow's CPU kernel: floats to integers truncate
// toward zero, conversions to floats round to nearest, anything to bool is
// x != 0, bool to numbers is 0 or 1. Denormals are flushed on the way in
// and out, as everywhere in TensorFlow's float arithmetic.

func init() { Register("Cast", castKernel) }

type castable interface {
	~float32 | ~float64 | ~int32 | ~int64 | ~uint8 | ~int8 | ~int16 | ~uint16 | ~uint32 | ~uint64
}

func castKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(1); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	to, err := c.AttrType("DstT")
	if err != nil {
		return nil, err
	}
	if x.DType() == to {
		return []*tfops.Tensor{x}, nil
	}
	// Every element is written below: a float32 output can come from the
	// session's pool.
	out, err := c.AllocUninit(to, x.Shape()...)
	if err != nil {
		return nil, err
	}
	x = dazTensor(x)
	ok := false
	if s, isF64 := x.Data().([]float64); isF64 && to == tfops.Float {
		// Narrowing follows the processor's flush-to-zero rounding.
		d := out.Float32s()
		c.parallel(len(d), grainCheap, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				d[i] = out32(s[i])
			}
		})
		return []*tfops.Tensor{out}, nil
	}
	switch s := x.Data().(type) {
	case []float32:
		ok = castFrom(c, s, out)
	case []float64:
		ok = castFrom(c, s, out)
	case []int32:
		ok = castFrom(c, s, out)
	case []int64:
		ok = castFrom(c, s, out)
	case []uint8:
		ok = castFrom(c, s, out)
	case []int8:
		ok = castFrom(c, s, out)
	case []int16:
		ok = castFrom(c, s, out)
	case []uint16:
		ok = castFrom(c, s, out)
	case []uint32:
		ok = castFrom(c, s, out)
	case []uint64:
		ok = castFrom(c, s, out)
	case []bool:
		// A bool is one byte holding 0 or 1: cast its bytes as uint8s,
		// without a copy.
		ok = castFrom(c, unsafe.Slice((*uint8)(unsafe.Pointer(unsafe.SliceData(s))), len(s)), out)
	}
	if !ok {
		return nil, c.Errorf("Cast %v to %v is not supported", x.DType(), to)
	}
	ftz(out.Data())
	return []*tfops.Tensor{out}, nil
}

func castFrom[S castable](c *Context, s []S, out *tfops.Tensor) bool {
	switch d := out.Data().(type) {
	case []float32:
		castTo(c, s, d)
	case []float64:
		castTo(c, s, d)
	case []int32:
		castTo(c, s, d)
	case []int64:
		castTo(c, s, d)
	case []uint8:
		castTo(c, s, d)
	case []int8:
		castTo(c, s, d)
	case []int16:
		castTo(c, s, d)
	case []uint16:
		castTo(c, s, d)
	case []uint32:
		castTo(c, s, d)
	case []uint64:
		castTo(c, s, d)
	case []bool:
		c.parallel(len(d), grainCheap, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				d[i] = s[i] != 0
			}
		})
	default:
		return false
	}
	return true
}

func castTo[S, D castable](c *Context, s []S, d []D) {
	c.parallel(len(d), grainCheap, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d[i] = D(s[i])
		}
	})
}
