package tfops

import (
	"encoding/binary"
	"fmt"
	"math"

	tensorpb "github.com/wamuir/graft/tensorflow/core/framework/tensor_go_proto"
)

// DefaultMaxTensorBytes bounds the memory a decoded TensorProto may claim
// (1 GiB). A file that asks for more is refused before allocation.
const DefaultMaxTensorBytes = 1 << 30

// ToProto encodes t as a TensorProto. Numeric and bool tensors use
// tensor_content (little-endian), strings use string_val, as TensorFlow's
// own tensor_util.make_tensor_proto does.
func ToProto(t *Tensor) (*tensorpb.TensorProto, error) {
	p := &tensorpb.TensorProto{Dtype: t.dtype.Proto(), TensorShape: t.StaticShape().Proto()}
	switch v := t.data.(type) {
	case []string:
		for _, s := range v {
			p.StringVal = append(p.StringVal, []byte(s))
		}
		return p, nil
	case []any:
		return nil, fmt.Errorf("%w: cannot encode a %v tensor", ErrDType, t.dtype)
	}
	p.TensorContent = EncodeContent(t)
	return p, nil
}

// EncodeContent returns t's elements as little-endian bytes (TensorFlow's
// tensor_content and checkpoint layout). Strings and handles give nil.
func EncodeContent(t *Tensor) []byte {
	n := t.Len()
	sz := t.dtype.Size()
	if sz == 0 {
		return nil
	}
	b := make([]byte, n*sz)
	switch v := t.data.(type) {
	case []float32:
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
	case []float64:
		for i, x := range v {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
		}
	case []int32:
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
		}
	case []uint32:
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], x)
		}
	case []int64:
		for i, x := range v {
			binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
		}
	case []uint64:
		for i, x := range v {
			binary.LittleEndian.PutUint64(b[8*i:], x)
		}
	case []int16:
		for i, x := range v {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(x))
		}
	case []uint16:
		for i, x := range v {
			binary.LittleEndian.PutUint16(b[2*i:], x)
		}
	case []uint8:
		copy(b, v)
	case []int8:
		for i, x := range v {
			b[i] = byte(x)
		}
	case []bool:
		for i, x := range v {
			if x {
				b[i] = 1
			}
		}
	}
	return b
}

// DecodeContent builds a tensor from little-endian bytes (tensor_content or a
// checkpoint slice). len(b) must equal the element count times the dtype size.
func DecodeContent(d DType, dims []int, b []byte) (*Tensor, error) {
	sz := d.Size()
	if sz == 0 || d == Half {
		return nil, fmt.Errorf("%w: cannot decode raw %v content", ErrDType, d)
	}
	n, err := checkedNumElements(dims)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) != n*int64(sz) {
		return nil, fmt.Errorf("%w: %v%v needs %d bytes, got %d", ErrShape, d, dims, n*int64(sz), len(b))
	}
	t, err := Zeros(d, dims...)
	if err != nil {
		return nil, err
	}
	switch v := t.data.(type) {
	case []float32:
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case []float64:
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	case []int32:
		for i := range v {
			v[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case []uint32:
		for i := range v {
			v[i] = binary.LittleEndian.Uint32(b[4*i:])
		}
	case []int64:
		for i := range v {
			v[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		}
	case []uint64:
		for i := range v {
			v[i] = binary.LittleEndian.Uint64(b[8*i:])
		}
	case []int16:
		for i := range v {
			v[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case []uint16:
		for i := range v {
			v[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
	case []uint8:
		copy(v, b)
	case []int8:
		for i := range v {
			v[i] = int8(b[i])
		}
	case []bool:
		for i := range v {
			v[i] = b[i] != 0
		}
	}
	return t, nil
}

// checkedNumElements multiplies dims, refusing negative dims and overflow.
func checkedNumElements(dims []int) (int64, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("%w: negative dimension in %v", ErrShape, dims)
		}
		if d != 0 && n > math.MaxInt64/int64(d) {
			return 0, fmt.Errorf("%w: shape %v overflows", ErrTooBig, dims)
		}
		n *= int64(d)
	}
	return n, nil
}

// CheckAlloc returns an error wrapping ErrTooBig when a tensor of dtype d and
// shape dims would need more than maxBytes bytes (strings count 16 bytes).
func CheckAlloc(d DType, dims []int, maxBytes int64) error {
	n, err := checkedNumElements(dims)
	if err != nil {
		return err
	}
	sz := int64(d.Size())
	if sz == 0 {
		sz = 16
	}
	if n > maxBytes/sz {
		return fmt.Errorf("%w: %v%v needs %d elements of %d bytes, limit %d bytes", ErrTooBig, d, dims, n, sz, maxBytes)
	}
	return nil
}

// FromProto decodes a TensorProto with the default size limit.
func FromProto(p *tensorpb.TensorProto) (*Tensor, error) {
	return FromProtoLimit(p, DefaultMaxTensorBytes)
}

// FromProtoLimit decodes a TensorProto, refusing tensors that would need more
// than maxBytes. It follows TensorFlow's rules: tensor_content when present;
// otherwise the typed *_val field, where fewer values than elements means the
// last value is repeated (a single value fills the tensor) and none means zeros.
func FromProtoLimit(p *tensorpb.TensorProto, maxBytes int64) (*Tensor, error) {
	d := DType(p.GetDtype())
	sh := ShapeFromProto(p.GetTensorShape())
	if !sh.FullyDefined() {
		return nil, fmt.Errorf("%w: tensor proto has shape %v", ErrShape, sh)
	}
	for _, x := range sh.dims {
		if x > math.MaxInt32 {
			return nil, fmt.Errorf("%w: dimension %d in %v", ErrTooBig, x, sh)
		}
	}
	dims := sh.IntDims()
	if err := CheckAlloc(d, dims, maxBytes); err != nil {
		return nil, err
	}
	if len(p.GetTensorContent()) > 0 {
		return DecodeContent(d, dims, p.GetTensorContent())
	}
	t, err := Zeros(d, dims...)
	if err != nil {
		return nil, err
	}
	n := t.Len()
	fill := func(k int, set func(i, j int)) error {
		if k > n {
			return fmt.Errorf("%w: %d values for %d elements", ErrShape, k, n)
		}
		if k == 0 {
			return nil
		}
		for i := 0; i < n; i++ {
			set(i, min(i, k-1))
		}
		return nil
	}
	switch v := t.data.(type) {
	case []float32:
		err = fill(len(p.FloatVal), func(i, j int) { v[i] = p.FloatVal[j] })
	case []float64:
		err = fill(len(p.DoubleVal), func(i, j int) { v[i] = p.DoubleVal[j] })
	case []int32:
		err = fill(len(p.IntVal), func(i, j int) { v[i] = p.IntVal[j] })
	case []int16:
		err = fill(len(p.IntVal), func(i, j int) { v[i] = int16(p.IntVal[j]) })
	case []int8:
		err = fill(len(p.IntVal), func(i, j int) { v[i] = int8(p.IntVal[j]) })
	case []uint8:
		err = fill(len(p.IntVal), func(i, j int) { v[i] = uint8(p.IntVal[j]) })
	case []uint16:
		err = fill(len(p.IntVal), func(i, j int) { v[i] = uint16(p.IntVal[j]) })
	case []int64:
		err = fill(len(p.Int64Val), func(i, j int) { v[i] = p.Int64Val[j] })
	case []uint32:
		err = fill(len(p.Uint32Val), func(i, j int) { v[i] = p.Uint32Val[j] })
	case []uint64:
		err = fill(len(p.Uint64Val), func(i, j int) { v[i] = p.Uint64Val[j] })
	case []bool:
		err = fill(len(p.BoolVal), func(i, j int) { v[i] = p.BoolVal[j] })
	case []string:
		err = fill(len(p.StringVal), func(i, j int) { v[i] = string(p.StringVal[j]) })
	case []any:
		if d == Half {
			return nil, fmt.Errorf("%w: float16 tensors are not supported", ErrDType)
		}
		// Resource/variant constants carry opaque handles.
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}
