package goengine

import (
	"fmt"
	"slices"

	"github.com/tfseg/tfseg/tfops"
)

// NumPy broadcasting for elementwise kernels. A bcastPlan maps each output
// element to one element of each input: dimensions are aligned at the
// right, a dimension of size 1 repeats, and adjacent dimensions with the
// same repeat pattern are merged so the inner loop runs over the longest
// contiguous stretch possible.

// broadcastDims returns the broadcast of the given dims, or an error in
// TensorFlow's words ("Incompatible shapes: [2,3] vs. [4]").
func broadcastDims(shapes ...[]int) ([]int, error) {
	r := 0
	for _, s := range shapes {
		r = max(r, len(s))
	}
	out := make([]int, r)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		for j, d := range s {
			k := r - len(s) + j
			switch {
			case d == out[k] || d == 1:
			case out[k] == 1:
				out[k] = d
			default:
				parts := make([]string, len(shapes))
				for i, s := range shapes {
					parts[i] = dimsString(s)
				}
				msg := "Incompatible shapes: " + parts[0]
				for _, p := range parts[1:] {
					msg += " vs. " + p
				}
				return nil, fmt.Errorf("%s", msg)
			}
		}
	}
	return out, nil
}

// dimsString formats dims as TensorFlow does in errors: [2,3].
func dimsString(d []int) string {
	s := "["
	for i, v := range d {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprint(v)
	}
	return s + "]"
}

// bcastPlan iterates an output of shape out over inputs that broadcast to it.
type bcastPlan struct {
	dims    []int   // merged output dimensions (at least one)
	strides [][]int // per input, per merged dimension: element stride, 0 where repeated
	n       int     // number of output elements
}

// newBcastPlan plans the broadcast of ins to out (which must be their
// broadcast, or a shape they broadcast to).
func newBcastPlan(out []int, ins ...[]int) bcastPlan {
	r := len(out)
	n := tfops.NumElements(out)
	p := bcastPlan{n: n, strides: make([][]int, len(ins))}
	// bcast[i][d]: input i repeats along output dimension d.
	type dimInfo struct {
		size    int
		pattern uint64
	}
	var merged []dimInfo
	for d := 0; d < r; d++ {
		if out[d] == 1 {
			continue
		}
		var pat uint64
		for i, in := range ins {
			k := d - (r - len(in))
			if k < 0 || in[k] == 1 {
				pat |= 1 << i
			}
		}
		if l := len(merged); l > 0 && merged[l-1].pattern == pat {
			merged[l-1].size *= out[d]
			continue
		}
		merged = append(merged, dimInfo{out[d], pat})
	}
	if len(merged) == 0 {
		merged = []dimInfo{{1, 0}}
	}
	p.dims = make([]int, len(merged))
	for d, m := range merged {
		p.dims[d] = m.size
	}
	for i := range ins {
		st := make([]int, len(merged))
		acc := 1
		for d := len(merged) - 1; d >= 0; d-- {
			if merged[d].pattern&(1<<i) != 0 {
				st[d] = 0
				continue
			}
			st[d] = acc
			acc *= merged[d].size
		}
		p.strides[i] = st
	}
	return p
}

// inner is the length of the innermost merged dimension; rows is the
// number of inner runs.
func (p *bcastPlan) inner() int { return p.dims[len(p.dims)-1] }
func (p *bcastPlan) rows() int {
	if p.n == 0 {
		return 0
	}
	return p.n / p.inner()
}

// forRows calls fn(row, offs) for each row in [lo, hi), where offs[i] is
// input i's element offset at the start of the row.
func (p *bcastPlan) forRows(lo, hi int, fn func(row int, offs []int)) {
	nd := len(p.dims) - 1
	idx := make([]int, nd)
	offs := make([]int, len(p.strides))
	r := lo
	for d := nd - 1; d >= 0; d-- {
		idx[d] = r % p.dims[d]
		r /= p.dims[d]
		for i := range offs {
			offs[i] += idx[d] * p.strides[i][d]
		}
	}
	for row := lo; row < hi; row++ {
		fn(row, offs)
		for d := nd - 1; d >= 0; d-- {
			idx[d]++
			for i := range offs {
				offs[i] += p.strides[i][d]
			}
			if idx[d] < p.dims[d] {
				break
			}
			for i := range offs {
				offs[i] -= p.dims[d] * p.strides[i][d]
			}
			idx[d] = 0
		}
	}
}

// equalDims reports whether two shapes are equal (the kernels' name for
// slices.Equal on dims).
func equalDims(a, b []int) bool { return slices.Equal(a, b) }

// applyBinary computes out[i] = f(x[ix], y[iy]) with broadcasting, with fast
// paths for equal shapes and scalar operands.
//
// Float inputs are read with denormals as zeros and denormal results are
// flushed, as TensorFlow's executor does (see kernels_flush.go).
func applyBinary[T, R tfops.Elem](c *Context, x, y *tfops.Tensor, outType tfops.DType, grain int, mode flushMode, f func(a, b T) R) (*tfops.Tensor, error) {
	if mode == flushArith {
		x, y = dazTensor(x), dazTensor(y)
	}
	dims, err := broadcastDims(x.Shape(), y.Shape())
	if err != nil {
		return nil, c.Errorf("%w", err)
	}
	out, err := c.AllocUninit(outType, dims...)
	if err != nil {
		return nil, err
	}
	xs, ys, o := tfops.Values[T](x), tfops.Values[T](y), tfops.Values[R](out)
	n := len(o)
	if n == 0 {
		return out, nil // an empty result (a 0 in dims); the broadcast plan below divides by the inner size
	}
	switch {
	case len(xs) == n && len(ys) == n:
		c.parallel(n, grain, func(lo, hi int) {
			xs, ys, o := xs[lo:hi], ys[lo:hi], o[lo:hi]
			for i := range o {
				o[i] = f(xs[i], ys[i])
			}
		})
	case len(ys) == 1 && len(xs) == n:
		b := ys[0]
		c.parallel(n, grain, func(lo, hi int) {
			xs, o := xs[lo:hi], o[lo:hi]
			for i := range o {
				o[i] = f(xs[i], b)
			}
		})
	case len(xs) == 1 && len(ys) == n:
		a := xs[0]
		c.parallel(n, grain, func(lo, hi int) {
			ys, o := ys[lo:hi], o[lo:hi]
			for i := range o {
				o[i] = f(a, ys[i])
			}
		})
	default:
		p := newBcastPlan(dims, x.Shape(), y.Shape())
		in := p.inner()
		sx, sy := p.strides[0][len(p.dims)-1], p.strides[1][len(p.dims)-1]
		c.parallel(p.rows(), max(1, grain/in), func(lo, hi int) {
			p.forRows(lo, hi, func(row int, offs []int) {
				o := o[row*in : (row+1)*in]
				ox, oy := offs[0], offs[1]
				switch {
				case sx == 1 && sy == 1:
					xs, ys := xs[ox:ox+in], ys[oy:oy+in]
					for k := range o {
						o[k] = f(xs[k], ys[k])
					}
				case sx == 0 && sy == 1:
					a, ys := xs[ox], ys[oy:oy+in]
					for k := range o {
						o[k] = f(a, ys[k])
					}
				case sx == 1 && sy == 0:
					xs, b := xs[ox:ox+in], ys[oy]
					for k := range o {
						o[k] = f(xs[k], b)
					}
				default:
					for k := range o {
						o[k] = f(xs[ox+k*sx], ys[oy+k*sy])
					}
				}
			})
		})
	}
	if mode != flushNone {
		c.parallel(n, grainCheap, func(lo, hi int) { ftz(o[lo:hi]) })
	}
	return out, nil
}

// applyUnary computes out[i] = f(x[i]), with denormals flushed like
// applyBinary.
func applyUnary[T, R tfops.Elem](c *Context, x *tfops.Tensor, outType tfops.DType, grain int, mode flushMode, f func(a T) R) (*tfops.Tensor, error) {
	if mode == flushArith {
		x = dazTensor(x)
	}
	out, err := c.AllocUninit(outType, x.Shape()...)
	if err != nil {
		return nil, err
	}
	xs, o := tfops.Values[T](x), tfops.Values[R](out)
	c.parallel(len(o), grain, func(lo, hi int) {
		xs, o := xs[lo:hi], o[lo:hi]
		for i := range o {
			o[i] = f(xs[i])
		}
		if mode != flushNone {
			ftz(o)
		}
	})
	return out, nil
}
