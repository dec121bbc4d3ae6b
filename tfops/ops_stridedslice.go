package tfops

import "fmt"

// StridedSliceMasks are StridedSlice's bit masks: bit i refers to entry i
// of begin/end/strides. Begin (End) ignores begin[i] (end[i]) and takes the
// widest range; Ellipsis marks the entry that stands for as many full
// dimensions as needed; NewAxis inserts a dimension of size 1; ShrinkAxis
// takes the single index begin[i] and drops the dimension.
type StridedSliceMasks struct{ Begin, End, Ellipsis, NewAxis, ShrinkAxis int64 }

// StridedSliceSpec is a StridedSlice resolved against an input shape: per
// input dimension, the first index taken, the step and the number of
// elements taken, plus the final output shape. Output element (k_0, k_1,
// ...) of the processing shape Sizes is input element (Begin[d] +
// k_d*Strides[d])_d. Unknown sizes are -1 (static inference only).
type StridedSliceSpec struct {
	// Begin, Strides and Sizes are, per input dimension, the first index
	// taken, the step and the number of elements taken.
	Begin, Strides, Sizes []int64
	// Shape is the output shape (new axes added, shrunk axes dropped).
	Shape []int64
}

// ErrStridedSlice marks an invalid StridedSlice specification.
var ErrStridedSlice = fmt.Errorf("%w: strided slice", ErrArg)

// ComputeStridedSlice resolves begin/end/strides and masks against the
// input dimensions in (-1 where unknown) exactly as TensorFlow's
// ValidateStridedSliceOp does: negative indices count from the end, out of
// range indices are clamped, except a shrunk index, which must exist.
func ComputeStridedSlice(in, begin, end, strides []int64, m StridedSliceMasks) (StridedSliceSpec, error) {
	n := len(begin)
	if len(end) != n || len(strides) != n {
		return StridedSliceSpec{}, fmt.Errorf("%w: begin, end and strides have lengths %d, %d, %d; they must be equal",
			ErrStridedSlice, n, len(end), len(strides))
	}
	if n > 64 {
		return StridedSliceSpec{}, fmt.Errorf("%w: %d slice entries, at most 64", ErrStridedSlice, n)
	}
	if m.Ellipsis&(m.Ellipsis-1) != 0 {
		return StridedSliceSpec{}, fmt.Errorf("%w: more than one ellipsis in mask %#b", ErrStridedSlice, m.Ellipsis)
	}
	// Sparse spec: add an implicit ellipsis at the end when there is none.
	ellipsis := m.Ellipsis
	sparseDims := n
	afterEllipsis := 0
	seen := false
	for i := 0; i < n; i++ {
		if seen && m.NewAxis&(1<<i) != 0 {
			afterEllipsis++
		}
		if ellipsis&(1<<i) != 0 {
			seen = true
		}
	}
	if !seen {
		ellipsis |= 1 << n
		sparseDims++
	}
	get := func(v []int64, i int, def int64) int64 {
		if i < n {
			return v[i]
		}
		return def
	}
	// Dense spec: one entry per input dimension.
	rank := len(in)
	db := make([]int64, rank)
	de := make([]int64, rank)
	ds := make([]int64, rank)
	var dBeginMask, dEndMask, dShrink uint64
	const newAxis, shrinkAxis = -1, -2
	var gather []int
	full := 0
	for i := 0; i < sparseDims; i++ {
		bit := int64(1) << i
		switch {
		case ellipsis&bit != 0:
			next := min(rank-(sparseDims-i)+1+afterEllipsis, rank)
			for ; full < next; full++ {
				db[full], de[full], ds[full] = 0, 0, 1
				dBeginMask |= 1 << full
				dEndMask |= 1 << full
				gather = append(gather, full)
			}
		case m.NewAxis&bit != 0:
			gather = append(gather, newAxis)
		default:
			if full >= rank {
				return StridedSliceSpec{}, fmt.Errorf("%w: index %d out of range for input of rank %d", ErrStridedSlice, full, rank)
			}
			db[full], de[full], ds[full] = get(begin, i, 0), get(end, i, 0), get(strides, i, 1)
			if m.Begin&bit != 0 {
				dBeginMask |= 1 << full
			}
			if m.End&bit != 0 {
				dEndMask |= 1 << full
			}
			if m.ShrinkAxis&bit != 0 {
				gather = append(gather, shrinkAxis)
				dShrink |= 1 << full
			} else {
				gather = append(gather, full)
			}
			full++
		}
	}
	spec := StridedSliceSpec{Begin: db, Strides: ds, Sizes: make([]int64, rank)}
	for i := 0; i < rank; i++ {
		b, e, st := db[i], de[i], ds[i]
		dim := in[i]
		bm, em := dBeginMask&(1<<i) != 0, dEndMask&(1<<i) != 0
		shrink := dShrink&(1<<i) != 0
		if st == 0 {
			return StridedSliceSpec{}, fmt.Errorf("%w: stride %d is 0", ErrStridedSlice, i)
		}
		if shrink && st <= 0 {
			return StridedSliceSpec{}, fmt.Errorf("%w: only stride 1 allowed on non-range indexing (dimension %d)", ErrStridedSlice, i)
		}
		if dim < 0 {
			spec.Sizes[i] = -1
			if shrink {
				spec.Sizes[i] = 1
			}
			continue
		}
		lo, hi := int64(0), dim
		if st < 0 {
			lo, hi = -1, dim-1
		}
		canonical := func(x int64, masked bool, isEnd bool) int64 {
			if masked {
				if (st > 0) != isEnd {
					return lo
				}
				return hi
			}
			if x < 0 {
				x += dim
			}
			return max(lo, min(hi, x))
		}
		if shrink {
			x := b
			if x < 0 {
				x += dim
			}
			if x < 0 || x >= dim {
				return StridedSliceSpec{}, fmt.Errorf("%w: slice index %d of dimension %d out of bounds (size %d)", ErrStridedSlice, b, i, dim)
			}
			spec.Begin[i], spec.Strides[i], spec.Sizes[i] = x, 1, 1
			continue
		}
		b, e = canonical(b, bm, false), canonical(e, em, true)
		spec.Begin[i] = b
		length := e - b
		if length == 0 || (length < 0) != (st < 0) {
			spec.Sizes[i] = 0
			continue
		}
		size := length / st
		if length%st != 0 {
			size++
		}
		spec.Sizes[i] = size
	}
	spec.Shape = []int64{}
	for _, g := range gather {
		switch g {
		case newAxis:
			spec.Shape = append(spec.Shape, 1)
		case shrinkAxis:
		default:
			spec.Shape = append(spec.Shape, spec.Sizes[g])
		}
	}
	return spec, nil
}
