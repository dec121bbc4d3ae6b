package tfops

import (
	"errors"
	"fmt"
)

// Sentinel errors. Messages carry the package prefix; wrap them with %w.
var (
	ErrDType   = errors.New("tfops: dtype mismatch")
	ErrShape   = errors.New("tfops: shape mismatch")
	ErrArg     = errors.New("tfops: invalid argument")
	ErrTooBig  = errors.New("tfops: tensor too large")
	ErrUnknown = errors.New("tfops: unknown dtype")
)

// Elem is the set of Go element types a Tensor may hold.
type Elem interface {
	~float32 | ~float64 | ~int32 | ~int64 | ~uint8 | ~int8 | ~int16 | ~uint16 | ~uint32 | ~uint64 | ~bool | ~string
}

// Tensor is a concrete, dense, row-major tensor: a dtype, a fully known shape
// and the element slice ([]float32 for Float, []float64 for Double, []int32,
// []int64, []uint8, []int8, []int16, []uint16, []uint32, []uint64, []bool,
// []string; any other dtype holds []any, e.g. resource handles inside the Go engine).
type Tensor struct {
	dtype DType
	shape []int
	data  any
}

// DTypeOf returns the DType of Go element type T.
func DTypeOf[T Elem]() DType {
	var z T
	switch any(z).(type) {
	case float32:
		return Float
	case float64:
		return Double
	case int32:
		return Int32
	case int64:
		return Int64
	case uint8:
		return Uint8
	case int8:
		return Int8
	case int16:
		return Int16
	case uint16:
		return Uint16
	case uint32:
		return Uint32
	case uint64:
		return Uint64
	case bool:
		return Bool
	case string:
		return String
	}
	return Invalid
}

// NumElements is the product of dims (1 for a scalar).
func NumElements(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// FromSlice wraps data (not copied) as a tensor of the given shape. With no
// dims the tensor is a vector of len(data); use FromScalar or dims of
// []int{} for a scalar.
func FromSlice[T Elem](data []T, dims ...int) (*Tensor, error) {
	if dims == nil {
		dims = []int{len(data)}
	}
	for _, d := range dims {
		if d < 0 {
			return nil, fmt.Errorf("%w: negative dimension in %v", ErrShape, dims)
		}
	}
	if n := NumElements(dims); n != len(data) {
		return nil, fmt.Errorf("%w: shape %v needs %d elements, got %d", ErrShape, dims, n, len(data))
	}
	return &Tensor{dtype: DTypeOf[T](), shape: append([]int{}, dims...), data: data}, nil
}

// MustFromSlice is FromSlice for literals in tests and examples; it panics on
// a shape/length mismatch, which is a programming error there.
func MustFromSlice[T Elem](data []T, dims ...int) *Tensor {
	t, err := FromSlice(data, dims...)
	if err != nil {
		panic(err)
	}
	return t
}

// FromScalar returns a rank-0 tensor.
func FromScalar[T Elem](v T) *Tensor {
	return &Tensor{dtype: DTypeOf[T](), shape: []int{}, data: []T{v}}
}

// Zeros returns a zero-filled tensor of dtype d and the given shape.
func Zeros(d DType, dims ...int) (*Tensor, error) {
	n := NumElements(dims)
	var data any
	switch d {
	case Float:
		data = make([]float32, n)
	case Double:
		data = make([]float64, n)
	case Int32:
		data = make([]int32, n)
	case Int64:
		data = make([]int64, n)
	case Uint8:
		data = make([]uint8, n)
	case Int8:
		data = make([]int8, n)
	case Int16:
		data = make([]int16, n)
	case Uint16:
		data = make([]uint16, n)
	case Uint32:
		data = make([]uint32, n)
	case Uint64:
		data = make([]uint64, n)
	case Bool:
		data = make([]bool, n)
	case String:
		data = make([]string, n)
	case Half, Resource, Variant:
		data = make([]any, n)
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnknown, d)
	}
	return &Tensor{dtype: d, shape: append([]int{}, dims...), data: data}, nil
}

// NewTensorRaw wraps data of any supported slice type with dtype d; it checks
// that the slice type matches d and the length matches dims.
func NewTensorRaw(d DType, dims []int, data any) (*Tensor, error) {
	z, err := Zeros(d)
	if err != nil {
		return nil, err
	}
	if fmt.Sprintf("%T", z.data) != fmt.Sprintf("%T", data) {
		return nil, fmt.Errorf("%w: %v tensor cannot hold %T", ErrDType, d, data)
	}
	t := &Tensor{dtype: d, shape: append([]int{}, dims...), data: data}
	if t.Len() != NumElements(dims) {
		return nil, fmt.Errorf("%w: shape %v needs %d elements, got %d", ErrShape, dims, NumElements(dims), t.Len())
	}
	return t, nil
}

// DType returns the element type.
func (t *Tensor) DType() DType { return t.dtype }

// Shape returns the dimensions (do not modify).
func (t *Tensor) Shape() []int { return t.shape }

// Rank returns len(Shape()).
func (t *Tensor) Rank() int { return len(t.shape) }

// StaticShape returns the shape as a Shape.
func (t *Tensor) StaticShape() Shape { return ShapeOf(t.shape) }

// NumElements returns the number of elements.
func (t *Tensor) NumElements() int { return NumElements(t.shape) }

// Data returns the element slice ([]float32, ...). Callers must not resize it.
func (t *Tensor) Data() any { return t.data }

// Len is the length of the element slice.
func (t *Tensor) Len() int {
	switch v := t.data.(type) {
	case []float32:
		return len(v)
	case []float64:
		return len(v)
	case []int32:
		return len(v)
	case []int64:
		return len(v)
	case []uint8:
		return len(v)
	case []int8:
		return len(v)
	case []int16:
		return len(v)
	case []uint16:
		return len(v)
	case []uint32:
		return len(v)
	case []uint64:
		return len(v)
	case []bool:
		return len(v)
	case []string:
		return len(v)
	case []any:
		return len(v)
	}
	return 0
}

// Values returns t's elements as []T; it returns nil when T does not match t's dtype.
func Values[T Elem](t *Tensor) []T {
	v, _ := t.data.([]T)
	return v
}

// IndexValues returns the elements of an int32 or int64 tensor as a new
// []int64 (TensorFlow's index types), and false for any other dtype.
func (t *Tensor) IndexValues() ([]int64, bool) {
	switch v := t.data.(type) {
	case []int32:
		out := make([]int64, len(v))
		for i, e := range v {
			out[i] = int64(e)
		}
		return out, true
	case []int64:
		return append([]int64(nil), v...), true
	}
	return nil, false
}

// AsFloat64s returns a copy of the elements of a numeric or bool tensor
// as float64 (bools as 0 and 1; int64 and uint64 values beyond 2^53
// rounded), and false for a string tensor.
func (t *Tensor) AsFloat64s() ([]float64, bool) {
	switch v := t.data.(type) {
	case []float32:
		return toFloat64s(v), true
	case []float64:
		return append([]float64(nil), v...), true
	case []int32:
		return toFloat64s(v), true
	case []int64:
		return toFloat64s(v), true
	case []uint8:
		return toFloat64s(v), true
	case []int8:
		return toFloat64s(v), true
	case []int16:
		return toFloat64s(v), true
	case []uint16:
		return toFloat64s(v), true
	case []uint32:
		return toFloat64s(v), true
	case []uint64:
		return toFloat64s(v), true
	case []bool:
		out := make([]float64, len(v))
		for i, b := range v {
			if b {
				out[i] = 1
			}
		}
		return out, true
	}
	return nil, false
}

func toFloat64s[T ~float32 | ~int32 | ~int64 | ~uint8 | ~int8 | ~int16 | ~uint16 | ~uint32 | ~uint64](v []T) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// Float32s returns the elements of a float32 tensor (nil otherwise).
func (t *Tensor) Float32s() []float32 { return Values[float32](t) }

// Float64s returns the elements of a float64 tensor (nil otherwise).
func (t *Tensor) Float64s() []float64 { return Values[float64](t) }

// Int32s returns the elements of an int32 tensor (nil otherwise).
func (t *Tensor) Int32s() []int32 { return Values[int32](t) }

// Int64s returns the elements of an int64 tensor (nil otherwise).
func (t *Tensor) Int64s() []int64 { return Values[int64](t) }

// Bools returns the elements of a bool tensor (nil otherwise).
func (t *Tensor) Bools() []bool { return Values[bool](t) }

// Strings returns the elements of a string tensor (nil otherwise).
func (t *Tensor) Strings() []string { return Values[string](t) }

// Reshaped returns a tensor sharing t's data with new dims (same element count).
func (t *Tensor) Reshaped(dims ...int) (*Tensor, error) {
	if NumElements(dims) != t.NumElements() {
		return nil, fmt.Errorf("%w: cannot reshape %v (%d elements) to %v", ErrShape, t.shape, t.NumElements(), dims)
	}
	return &Tensor{dtype: t.dtype, shape: append([]int{}, dims...), data: t.data}, nil
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	c, _ := Zeros(t.dtype, t.shape...)
	switch v := t.data.(type) {
	case []float32:
		copy(c.data.([]float32), v)
	case []float64:
		copy(c.data.([]float64), v)
	case []int32:
		copy(c.data.([]int32), v)
	case []int64:
		copy(c.data.([]int64), v)
	case []uint8:
		copy(c.data.([]uint8), v)
	case []int8:
		copy(c.data.([]int8), v)
	case []int16:
		copy(c.data.([]int16), v)
	case []uint16:
		copy(c.data.([]uint16), v)
	case []uint32:
		copy(c.data.([]uint32), v)
	case []uint64:
		copy(c.data.([]uint64), v)
	case []bool:
		copy(c.data.([]bool), v)
	case []string:
		copy(c.data.([]string), v)
	case []any:
		copy(c.data.([]any), v)
	}
	return c
}

// String summarises the tensor (dtype, shape, and up to 8 values).
func (t *Tensor) String() string {
	s := fmt.Sprintf("%v%v", t.dtype, t.shape)
	switch v := t.data.(type) {
	case []float32:
		s += fmt.Sprint(v[:min(8, len(v))])
	case []float64:
		s += fmt.Sprint(v[:min(8, len(v))])
	case []int32:
		s += fmt.Sprint(v[:min(8, len(v))])
	case []int64:
		s += fmt.Sprint(v[:min(8, len(v))])
	case []bool:
		s += fmt.Sprint(v[:min(8, len(v))])
	}
	return s
}
