package tfops

import (
	"fmt"
	"strings"

	shapepb "github.com/wamuir/graft/tensorflow/core/framework/tensor_shape_go_proto"
)

// Shape is a static tensor shape as known while a graph is built. Dimensions
// may be unknown (-1), and so may the rank. The zero value is a shape of
// unknown rank.
type Shape struct {
	dims      []int64
	rankKnown bool
}

// MakeShape returns a shape of known rank; -1 marks an unknown dimension.
// MakeShape() is the scalar shape.
func MakeShape(dims ...int64) Shape {
	d := make([]int64, len(dims))
	copy(d, dims)
	return Shape{dims: d, rankKnown: true}
}

// ShapeOf returns the fully known shape with the given int dimensions.
func ShapeOf(dims []int) Shape {
	d := make([]int64, len(dims))
	for i, v := range dims {
		d[i] = int64(v)
	}
	return Shape{dims: d, rankKnown: true}
}

// ScalarShape is the shape of a scalar.
func ScalarShape() Shape { return Shape{rankKnown: true} }

// UnknownShape is a shape of unknown rank.
func UnknownShape() Shape { return Shape{} }

// UnknownShapeOfRank is a shape of known rank whose dimensions are all unknown.
func UnknownShapeOfRank(rank int) Shape {
	d := make([]int64, rank)
	for i := range d {
		d[i] = -1
	}
	return Shape{dims: d, rankKnown: true}
}

// RankKnown reports whether the rank is known.
func (s Shape) RankKnown() bool { return s.rankKnown }

// Rank returns the rank, or -1 when unknown.
func (s Shape) Rank() int {
	if !s.rankKnown {
		return -1
	}
	return len(s.dims)
}

// Dim returns dimension i (-1 when unknown). Negative i counts from the end.
func (s Shape) Dim(i int) int64 {
	if !s.rankKnown {
		return -1
	}
	if i < 0 {
		i += len(s.dims)
	}
	if i < 0 || i >= len(s.dims) {
		return -1
	}
	return s.dims[i]
}

// Dims returns a copy of the dimensions (nil when the rank is unknown).
func (s Shape) Dims() []int64 {
	if !s.rankKnown {
		return nil
	}
	d := make([]int64, len(s.dims))
	copy(d, s.dims)
	return d
}

// FullyDefined reports whether rank and every dimension are known.
func (s Shape) FullyDefined() bool {
	if !s.rankKnown {
		return false
	}
	for _, d := range s.dims {
		if d < 0 {
			return false
		}
	}
	return true
}

// NumElements returns the element count, or -1 when not fully defined.
func (s Shape) NumElements() int64 {
	if !s.FullyDefined() {
		return -1
	}
	n := int64(1)
	for _, d := range s.dims {
		n *= d
	}
	return n
}

// IntDims returns the dimensions as ints; valid only for fully defined shapes.
func (s Shape) IntDims() []int {
	d := make([]int, len(s.dims))
	for i, v := range s.dims {
		d[i] = int(v)
	}
	return d
}

// String formats the shape as TensorFlow does: (2, ?, 3), <unknown>.
func (s Shape) String() string {
	if !s.rankKnown {
		return "<unknown>"
	}
	parts := make([]string, len(s.dims))
	for i, d := range s.dims {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// CompatibleWith reports whether s and o may describe the same concrete shape.
func (s Shape) CompatibleWith(o Shape) bool {
	if !s.rankKnown || !o.rankKnown {
		return true
	}
	if len(s.dims) != len(o.dims) {
		return false
	}
	for i := range s.dims {
		if s.dims[i] >= 0 && o.dims[i] >= 0 && s.dims[i] != o.dims[i] {
			return false
		}
	}
	return true
}

// Merge returns the most specific shape compatible with both, or an error.
func (s Shape) Merge(o Shape) (Shape, error) {
	if !s.rankKnown {
		return o, nil
	}
	if !o.rankKnown {
		return s, nil
	}
	if !s.CompatibleWith(o) {
		return Shape{}, fmt.Errorf("%w: %v and %v are incompatible", ErrShape, s, o)
	}
	d := make([]int64, len(s.dims))
	for i := range d {
		d[i] = s.dims[i]
		if d[i] < 0 {
			d[i] = o.dims[i]
		}
	}
	return Shape{dims: d, rankKnown: true}, nil
}

// Proto encodes the shape as a TensorShapeProto.
func (s Shape) Proto() *shapepb.TensorShapeProto {
	if !s.rankKnown {
		return &shapepb.TensorShapeProto{UnknownRank: true}
	}
	p := &shapepb.TensorShapeProto{}
	for _, d := range s.dims {
		p.Dim = append(p.Dim, &shapepb.TensorShapeProto_Dim{Size: d})
	}
	return p
}

// ShapeFromProto decodes a TensorShapeProto (nil is unknown rank).
func ShapeFromProto(p *shapepb.TensorShapeProto) Shape {
	if p == nil || p.GetUnknownRank() {
		return Shape{}
	}
	d := make([]int64, len(p.GetDim()))
	for i, dim := range p.GetDim() {
		d[i] = dim.GetSize()
		if d[i] < -1 {
			d[i] = -1
		}
	}
	return Shape{dims: d, rankKnown: true}
}

// BroadcastShapes returns the NumPy/TensorFlow broadcast of two static shapes.
func BroadcastShapes(a, b Shape) (Shape, error) {
	if !a.rankKnown || !b.rankKnown {
		return UnknownShape(), nil
	}
	n := max(len(a.dims), len(b.dims))
	out := make([]int64, n)
	for i := 0; i < n; i++ {
		da, db := int64(1), int64(1)
		if j := len(a.dims) - n + i; j >= 0 {
			da = a.dims[j]
		}
		if j := len(b.dims) - n + i; j >= 0 {
			db = b.dims[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		case da < 0 && db < 0:
			out[i] = -1
		case da < 0:
			out[i] = db // da must be 1 or db
		case db < 0:
			out[i] = da
		default:
			return Shape{}, fmt.Errorf("%w: cannot broadcast %v and %v", ErrShape, a, b)
		}
	}
	return Shape{dims: out, rankKnown: true}, nil
}
