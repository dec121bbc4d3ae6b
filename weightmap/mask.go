package weightmap

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Sentinel errors. Messages carry the package prefix; test with errors.Is.
var (
	// ErrMask reports a mask holding a value other than 0/1 or 0/255.
	ErrMask = errors.New("weightmap: invalid mask")
	// ErrShape reports dimensions that do not fit the data or the operation
	// (wrong rank, negative sizes, a length that is not the product of dims).
	ErrShape = errors.New("weightmap: invalid shape")
	// ErrOption reports an invalid option (sampling, σ, w0, class weights).
	ErrOption = errors.New("weightmap: invalid option")
	// ErrDType reports a tensor element type this package cannot read or write.
	ErrDType = errors.New("weightmap: unsupported dtype")
)

// Elem is the set of mask element types.
type Elem interface {
	bool | uint8 | int8 | uint16 | int16 | uint32 | int32 | uint64 | int64 | float32 | float64
}

// Connectivity selects which neighbours join pixels into one object.
type Connectivity int

const (
	// Conn4 joins edge neighbours only (up, down, left, right). It is the
	// zero value and scipy.ndimage.label's default structure.
	Conn4 Connectivity = iota
	// Conn8 also joins diagonal neighbours (scipy.ndimage.label with
	// structure=np.ones((3, 3))).
	Conn8
)

// String returns "4-connectivity" or "8-connectivity".
func (c Connectivity) String() string {
	switch c {
	case Conn4:
		return "4-connectivity"
	case Conn8:
		return "8-connectivity"
	}
	return fmt.Sprintf("Connectivity(%d)", int(c))
}

func (c Connectivity) valid() error {
	if c != Conn4 && c != Conn8 {
		return fmt.Errorf("%w: connectivity %d (want Conn4 or Conn8)", ErrOption, int(c))
	}
	return nil
}

// checkDims checks that dims are non-negative and that their product is n.
func checkDims(dims []int, n int) error {
	if len(dims) == 0 {
		return fmt.Errorf("%w: no dimensions (a mask has rank >= 1)", ErrShape)
	}
	p := 1
	for _, d := range dims {
		if d < 0 {
			return fmt.Errorf("%w: negative dimension in %v", ErrShape, dims)
		}
		if d > 0 && p > math.MaxInt32/d {
			return fmt.Errorf("%w: %v has more than %d elements", ErrShape, dims, math.MaxInt32)
		}
		p *= d
	}
	if p != n {
		return fmt.Errorf("%w: dims %v need %d elements, the mask has %d", ErrShape, dims, p, n)
	}
	return nil
}

// coords formats flat index i of a row-major array of shape dims as "[i0 i1 ...]".
func coords(i int, dims []int) string {
	c := make([]string, len(dims))
	for k := len(dims) - 1; k >= 0; k-- {
		if dims[k] == 0 {
			return "[]"
		}
		c[k] = fmt.Sprint(i % dims[k])
		i /= dims[k]
	}
	return "[" + strings.Join(c, " ") + "]"
}

// number is the set of numeric mask element types.
type number interface {
	uint8 | int8 | uint16 | int16 | uint32 | int32 | uint64 | int64 | float32 | float64
}

// binarize validates mask (0/1 or 0/255, never both 1 and 255) and returns
// its foreground as []bool. dims only serve the error message. A []bool mask
// is returned as is (not copied).
func binarize[T Elem](mask []T, dims []int) ([]bool, error) {
	switch m := any(mask).(type) {
	case []bool:
		return m, nil
	case []uint8:
		return binarizeNumbers(m, dims)
	case []int8:
		return binarizeNumbers(m, dims)
	case []uint16:
		return binarizeNumbers(m, dims)
	case []int16:
		return binarizeNumbers(m, dims)
	case []uint32:
		return binarizeNumbers(m, dims)
	case []int32:
		return binarizeNumbers(m, dims)
	case []uint64:
		return binarizeNumbers(m, dims)
	case []int64:
		return binarizeNumbers(m, dims)
	case []float32:
		return binarizeNumbers(m, dims)
	case []float64:
		return binarizeNumbers(m, dims)
	}
	return nil, fmt.Errorf("%w: mask of %T", ErrDType, mask) // unreachable: Elem lists exactly the cases above
}

func binarizeNumbers[T number](mask []T, dims []int) ([]bool, error) {
	fg := make([]bool, len(mask))
	var one T   // the foreground value seen first
	oneAt := -1 // and where
	for i, v := range mask {
		if v == 0 {
			continue
		}
		// float64 is exact for 0, 1 and 255 in every element type, and no
		// other value converts to them.
		if f := float64(v); f != 1 && f != 255 {
			return nil, fmt.Errorf("%w: value %v at index %d %v (a mask holds 0/1 or 0/255)", ErrMask, v, i, coords(i, dims))
		}
		if oneAt < 0 {
			one, oneAt = v, i
		} else if v != one {
			return nil, fmt.Errorf("%w: value %v at index %d %v after value %v at index %d %v: a mask holds either 0/1 or 0/255",
				ErrMask, v, i, coords(i, dims), one, oneAt, coords(oneAt, dims))
		}
		fg[i] = true
	}
	return fg, nil
}
