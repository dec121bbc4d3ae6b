package goengine

import (
	"strings"

	"github.com/tfseg/tfseg/tfops"
)

// Einsum (tf.einsum; Keras EinsumDense and MultiHeadAttention). Op
// definition: tensorflow/core/ops/linalg_ops.cc (Einsum: inputs N × T,
// attr equation); kernel: tensorflow/core/kernels/linalg/einsum_op_impl.h,
// which this follows: each operand's repeated labels are reduced to their
// diagonal and its labels that appear in no other operand nor the output
// are summed out; two operands are then contracted with one batched matrix
// product (labels in both operands and the output are batch dimensions,
// in both operands only contracted), and the result is transposed to the
// output's order. An ellipsis stands for the same broadcast dimensions in
// every operand (NumPy broadcasting) and must appear in the output when
// any operand's ellipsis covers dimensions.

func init() {
	Register("Einsum", einsumKernel)
}

// einsumOperand is one operand after parsing: its label per axis
// (letters as runes, ellipsis dimensions as -1-position).
type einsumOperand struct {
	t      *tfops.Tensor
	labels []int
}

// parseSubscripts turns one operand's subscripts into labels, expanding an
// ellipsis to rank - letters dimensions (ell = -1 when rank is unknown,
// for the output). It returns the labels and the ellipsis rank.
func parseSubscripts(sub string, rank int) (labels []int, ellRank int, ok bool, msg string) {
	hasEll := strings.Contains(sub, "...")
	letters := strings.Replace(sub, "...", "", 1)
	if strings.Contains(letters, ".") {
		return nil, 0, false, "subscripts " + sub + " have a '.' outside an ellipsis"
	}
	for _, r := range letters {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return nil, 0, false, "subscripts " + sub + " contain " + string(r) + ", not a letter"
		}
	}
	ellRank = 0
	if hasEll {
		ellRank = rank - len(letters)
	}
	return nil, ellRank, true, ""
}

func einsumKernel(c *Context) ([]*tfops.Tensor, error) {
	eq, err := c.AttrStringOr("equation", "")
	if err != nil {
		return nil, err
	}
	eq = strings.ReplaceAll(eq, " ", "")
	parts := strings.Split(eq, "->")
	if len(parts) != 2 {
		return nil, c.Errorf("Expecting exactly one '->' in einsum equation: %s", eq)
	}
	ins := strings.Split(parts[0], ",")
	if len(ins) != len(c.Inputs) || len(ins) < 1 || len(ins) > 2 {
		return nil, c.Errorf("Expecting %d input subscripts in equation %q (1 or 2 are supported), got %d", len(c.Inputs), eq, len(ins))
	}
	for _, x := range c.Inputs[1:] {
		if x.DType() != c.Inputs[0].DType() {
			return nil, c.Errorf("inputs are %v and %v", c.Inputs[0].DType(), x.DType())
		}
	}
	// Ellipsis ranks and the broadcast rank E.
	ells := make([]int, len(ins))
	maxEll := 0
	for i, sub := range ins {
		_, e, ok, msg := parseSubscripts(sub, c.Inputs[i].Rank())
		if !ok {
			return nil, c.Errorf("%s", msg)
		}
		letters := len(strings.Replace(sub, "...", "", 1))
		if strings.Contains(sub, "...") {
			if e < 0 {
				return nil, c.Errorf("Input %d to einsum has rank %d but subscript %q needs at least %d dimensions", i, c.Inputs[i].Rank(), sub, letters)
			}
		} else if c.Inputs[i].Rank() != letters {
			return nil, c.Errorf("Input %d to einsum has rank %d but subscript %q has %d labels", i, c.Inputs[i].Rank(), sub, letters)
		}
		ells[i] = e
		maxEll = max(maxEll, e)
	}
	if _, _, ok, msg := parseSubscripts(parts[1], 0); !ok {
		return nil, c.Errorf("%s", msg)
	}
	expand := func(sub string, ell int) []int {
		var out []int
		pre, post, has := strings.Cut(sub, "...")
		for _, r := range pre {
			out = append(out, int(r))
		}
		if has {
			for j := 0; j < ell; j++ {
				out = append(out, -1-(maxEll-ell+j))
			}
			for _, r := range post {
				out = append(out, int(r))
			}
		}
		return out
	}
	ops := make([]einsumOperand, len(ins))
	size := map[int]int{}
	for i, sub := range ins {
		ops[i] = einsumOperand{t: c.Inputs[i], labels: expand(sub, ells[i])}
		for ax, l := range ops[i].labels {
			d := c.Inputs[i].Shape()[ax]
			if s, ok := size[l]; ok && s != d {
				if l >= 0 {
					return nil, c.Errorf("Expected dimension %d at axis %d of input %d (shape %s) for label %c, got %d", s, ax, i, dimsString(c.Inputs[i].Shape()), rune(l), d)
				}
				if s != 1 && d != 1 {
					return nil, c.Errorf("ellipsis dimensions of the inputs do not broadcast: %d vs %d (input %d shape %s)", s, d, i, dimsString(c.Inputs[i].Shape()))
				}
				d = max(s, d)
			}
			size[l] = d
		}
	}
	if maxEll > 0 && !strings.Contains(parts[1], "...") {
		return nil, c.Errorf("Output subscripts %q need an ellipsis: the inputs' ellipsis covers %d dimensions", parts[1], maxEll)
	}
	outLabels := expand(parts[1], maxEll)
	inOut := map[int]bool{}
	for _, l := range outLabels {
		if inOut[l] {
			return nil, c.Errorf("Output subscripts contain the label %c more than once", rune(l))
		}
		if _, ok := size[l]; !ok {
			return nil, c.Errorf("Output subscripts contain a label %c that appears in no inputs", rune(l))
		}
		inOut[l] = true
	}
	has := func(i, l int) bool {
		for _, m := range ops[i].labels {
			if m == l {
				return true
			}
		}
		return false
	}
	if len(ops) == 1 {
		// Diagonal, sum over labels not in the output, transpose.
		red := uniqueLabels(ops[0].labels, func(l int) bool { return !inOut[l] })
		out, err := c.einsumArrange(ops[0], outLabels, red)
		if err != nil {
			return nil, err
		}
		return []*tfops.Tensor{out}, nil
	}
	var batch, contract, freeA, freeB []int
	for _, l := range uniqueLabels(ops[0].labels, nil) {
		switch {
		case has(1, l) && inOut[l]:
			batch = append(batch, l)
		case has(1, l):
			contract = append(contract, l)
		case inOut[l]:
			freeA = append(freeA, l)
		}
	}
	for _, l := range uniqueLabels(ops[1].labels, nil) {
		if !has(0, l) && inOut[l] {
			freeB = append(freeB, l)
		}
	}
	redA := uniqueLabels(ops[0].labels, func(l int) bool { return !inOut[l] && !has(1, l) })
	redB := uniqueLabels(ops[1].labels, func(l int) bool { return !inOut[l] && !has(0, l) })
	a, err := c.einsumArrange(ops[0], concatLabels(batch, freeA, contract), redA)
	if err != nil {
		return nil, err
	}
	b, err := c.einsumArrange(ops[1], concatLabels(batch, contract, freeB), redB)
	if err != nil {
		return nil, err
	}
	nb := len(batch)
	m, k, n := prodSizes(size, freeA), prodSizes(size, contract), prodSizes(size, freeB)
	if a, err = a.Reshaped(append(append([]int{}, a.Shape()[:nb]...), m, k)...); err != nil {
		return nil, c.Errorf("%w", err)
	}
	if b, err = b.Reshaped(append(append([]int{}, b.Shape()[:nb]...), k, n)...); err != nil {
		return nil, c.Errorf("%w", err)
	}
	p, err := c.batchMatMul(a, b, false, false, true)
	if err != nil {
		return nil, err
	}
	// p is [batch..., freeA..., freeB...]; transpose to the output order.
	pl := concatLabels(batch, freeA, freeB)
	pd := append([]int{}, p.Shape()[:nb]...)
	for _, l := range append(append([]int{}, freeA...), freeB...) {
		pd = append(pd, size[l])
	}
	if p, err = p.Reshaped(pd...); err != nil {
		return nil, c.Errorf("%w", err)
	}
	out, err := c.einsumArrange(einsumOperand{t: p, labels: pl}, outLabels, nil)
	if err != nil {
		return nil, err
	}
	return []*tfops.Tensor{out}, nil
}

func concatLabels(ls ...[]int) []int {
	var out []int
	for _, l := range ls {
		out = append(out, l...)
	}
	return out
}

func prodSizes(size map[int]int, ls []int) int {
	p := 1
	for _, l := range ls {
		p *= size[l]
	}
	return p
}

// uniqueLabels returns the distinct labels of ls in order of first
// appearance, those for which keep holds (all when keep is nil).
func uniqueLabels(ls []int, keep func(int) bool) []int {
	var out []int
	seen := map[int]bool{}
	for _, l := range ls {
		if !seen[l] && (keep == nil || keep(l)) {
			out = append(out, l)
		}
		seen[l] = true
	}
	return out
}

// einsumArrange returns operand x with its axes in the order of want (each
// of x's labels once: repeated labels read the diagonal), its labels red
// summed out. Dimensions keep x's own sizes (1 for a broadcast ellipsis
// dimension).
func (c *Context) einsumArrange(x einsumOperand, want, red []int) (*tfops.Tensor, error) {
	xs := x.t.Shape()
	st := rowMajorStrides(xs)
	dimOf := func(l int) (d, stride int) {
		d = -1
		for ax, m := range x.labels {
			if m == l {
				if d >= 0 && xs[ax] != d {
					return -2, 0
				}
				d = xs[ax]
				stride += st[ax]
			}
		}
		return d, stride
	}
	all := append(append([]int{}, want...), red...)
	dims := make([]int, len(all))
	sst := make([]int, len(all))
	for i, l := range all {
		d, s := dimOf(l)
		switch d {
		case -1:
			return nil, c.Errorf("label %c is not a label of an operand with labels %s", rune(l), labelString(x.labels))
		case -2:
			return nil, c.Errorf("label %c is repeated on dimensions of different sizes in an operand of shape %s", rune(l), dimsString(xs))
		}
		dims[i], sst[i] = d, s
	}
	out, err := c.AllocUninit(x.t.DType(), dims...)
	if err != nil {
		return nil, err
	}
	copyStrided(c, out, x.t, dims, stridedView{0, rowMajorStrides(dims)}, stridedView{0, sst})
	if len(red) == 0 {
		return out, nil
	}
	keep := dims[:len(want)]
	inner := tfops.NumElements(dims[len(want):])
	r, err := c.Alloc(x.t.DType(), keep...)
	if err != nil {
		return nil, err
	}
	switch v := out.Data().(type) {
	case []float32:
		rv := r.Float32s()
		for i := range rv {
			var s float64
			for _, e := range v[i*inner : (i+1)*inner] {
				s += float64(e)
			}
			rv[i] = out32(s)
		}
	case []float64:
		sumInner(v, r.Float64s(), inner)
	case []int32:
		sumInner(v, r.Int32s(), inner)
	case []int64:
		sumInner(v, r.Int64s(), inner)
	default:
		return nil, c.unsupportedDType(x.t.DType())
	}
	return r, nil
}

func sumInner[T number](v, out []T, inner int) {
	for i := range out {
		var s T
		for _, e := range v[i*inner : (i+1)*inner] {
			s += e
		}
		out[i] = s
	}
}

func labelString(ls []int) string {
	var sb strings.Builder
	for _, l := range ls {
		if l < 0 {
			sb.WriteString(".")
		} else {
			sb.WriteRune(rune(l))
		}
	}
	return sb.String()
}
