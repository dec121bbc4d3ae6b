package tfops

import (
	"fmt"
	"reflect"
	"slices"
)

// Accessors for batches of images in TensorFlow's NHWC layout (batch,
// height, width, channels), row-major as every Tensor: element (n, y, x, c)
// of a (N, H, W, C) tensor is at ((n*H+y)*W+x)*C+c.

// NHWC returns the four dimensions of a rank-4 tensor; any other rank is an
// ErrShape error.
func (t *Tensor) NHWC() (n, h, w, c int, err error) {
	if len(t.shape) != 4 {
		return 0, 0, 0, 0, fmt.Errorf("%w: want a rank-4 NHWC tensor (batch, height, width, channels), got shape %v", ErrShape, t.shape)
	}
	return t.shape[0], t.shape[1], t.shape[2], t.shape[3], nil
}

// Offset returns the index in the element slice of element (n, y, x, c)
// of a rank-4 NHWC tensor. It panics when t is not rank 4 or an index is
// out of range, as indexing a slice does.
func (t *Tensor) Offset(n, y, x, c int) int {
	if len(t.shape) != 4 {
		panic(fmt.Sprintf("tfops: Offset(%d, %d, %d, %d) on a tensor of shape %v; want rank 4 (NHWC)", n, y, x, c, t.shape))
	}
	s := t.shape
	if uint(n) >= uint(s[0]) || uint(y) >= uint(s[1]) || uint(x) >= uint(s[2]) || uint(c) >= uint(s[3]) {
		panic(fmt.Sprintf("tfops: index (%d, %d, %d, %d) out of range for shape %v", n, y, x, c, s))
	}
	return ((n*s[1]+y)*s[2]+x)*s[3] + c
}

// At returns element (n, y, x, c) of a rank-4 NHWC tensor of a numeric or
// bool dtype as a float64 (bool: 0 or 1). It panics when t is not rank 4,
// an index is out of range or the dtype is not numeric, as indexing a
// slice does.
func (t *Tensor) At(n, y, x, c int) float64 {
	i := t.Offset(n, y, x, c)
	switch v := t.data.(type) {
	case []float32:
		return float64(v[i])
	case []float64:
		return v[i]
	case []int32:
		return float64(v[i])
	case []int64:
		return float64(v[i])
	case []uint8:
		return float64(v[i])
	case []int8:
		return float64(v[i])
	case []int16:
		return float64(v[i])
	case []uint16:
		return float64(v[i])
	case []uint32:
		return float64(v[i])
	case []uint64:
		return float64(v[i])
	case []bool:
		if v[i] {
			return 1
		}
		return 0
	}
	panic(fmt.Sprintf("tfops: At on a %v tensor; want a numeric or bool dtype", t.dtype))
}

// Batch returns entries lo to hi-1 of t's first axis (images lo to hi-1
// of an NHWC batch) as a tensor of shape (hi-lo, ...) sharing t's data:
// no copy is made, so writes through either show in both. A scalar t or
// bounds outside 0 <= lo <= hi <= t.Shape()[0] are ErrShape errors.
func (t *Tensor) Batch(lo, hi int) (*Tensor, error) {
	if len(t.shape) == 0 {
		return nil, fmt.Errorf("%w: Batch(%d, %d) on a scalar; want a tensor with a batch axis", ErrShape, lo, hi)
	}
	if lo < 0 || hi < lo || hi > t.shape[0] {
		return nil, fmt.Errorf("%w: Batch(%d, %d) out of range for shape %v (batch axis of size %d)", ErrShape, lo, hi, t.shape, t.shape[0])
	}
	row := NumElements(t.shape[1:])
	shape := append([]int{hi - lo}, t.shape[1:]...)
	data := reflect.ValueOf(t.data).Slice(lo*row, hi*row).Interface()
	return &Tensor{dtype: t.dtype, shape: shape, data: data}, nil
}

// Image returns image n of a batch as a tensor of shape (1, ...) sharing
// t's data (see Batch): fed to a model or a loss it is a batch of one.
func (t *Tensor) Image(n int) (*Tensor, error) {
	if len(t.shape) == 0 || n < 0 || n >= t.shape[0] {
		return nil, fmt.Errorf("%w: Image(%d) out of range for shape %v", ErrShape, n, t.shape)
	}
	return t.Batch(n, n+1)
}

// Stack joins tensors of one dtype and shape S along a new first axis:
// the result has shape (len(ts), S...) and holds copies of their elements.
// No tensors, a nil one, or differing dtypes or shapes are errors naming
// the tensor at fault.
func Stack(ts []*Tensor) (*Tensor, error) {
	if len(ts) == 0 {
		return nil, fmt.Errorf("%w: Stack of no tensors", ErrArg)
	}
	for i, t := range ts {
		if t == nil {
			return nil, fmt.Errorf("%w: Stack: tensor %d is nil", ErrArg, i)
		}
		if t.dtype != ts[0].dtype {
			return nil, fmt.Errorf("%w: Stack: tensor %d is %v, tensor 0 is %v", ErrDType, i, t.dtype, ts[0].dtype)
		}
		if !slices.Equal(t.shape, ts[0].shape) {
			return nil, fmt.Errorf("%w: Stack: tensor %d has shape %v, tensor 0 has %v", ErrShape, i, t.shape, ts[0].shape)
		}
	}
	out, err := Zeros(ts[0].dtype, append([]int{len(ts)}, ts[0].shape...)...)
	if err != nil {
		return nil, err
	}
	dst := reflect.ValueOf(out.data)
	row := ts[0].Len()
	for i, t := range ts {
		reflect.Copy(dst.Slice(i*row, (i+1)*row), reflect.ValueOf(t.data))
	}
	return out, nil
}
