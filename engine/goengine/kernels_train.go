package goengine

import (
	"math"
	"sort"

	"github.com/tfseg/tfseg/tfops"
)

// Kernels that training graphs need beyond the elementwise and reduction
// ops: gradient bookkeeping (BroadcastGradientArgs) and the optimizers'
// in-place updates of resource variables (ResourceApply*), with the update
// formulas of tensorflow/core/kernels/training_ops.cc.

func init() {
	RegisterOp("BroadcastGradientArgs", OpDef{
		Kernel:     broadcastGradientArgsKernel,
		OutputArgs: []OutputArg{{Name: "r0"}, {Name: "r1"}},
	})
	RegisterOp("ResourceApplyGradientDescent", OpDef{Kernel: applyGradientDescentKernel, Stateful: true})
	RegisterOp("ResourceApplyMomentum", OpDef{Kernel: applyMomentumKernel(false), Stateful: true})
	RegisterOp("ResourceApplyKerasMomentum", OpDef{Kernel: applyMomentumKernel(true), Stateful: true})
	RegisterOp("ResourceApplyAdam", OpDef{Kernel: applyAdamKernel, Stateful: true})
}

// broadcastGradientArgsKernel returns, for shapes s0 and s1 of the operands
// of a broadcasting binary op, the axes each operand's gradient must be
// summed over: the axes (of the broadcast result) where that operand has
// size 1 or is missing, as TensorFlow's BCast computes them (axes where
// both are 1 belong to both lists; equal shapes give two empty lists).
func broadcastGradientArgsKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(2); err != nil {
		return nil, err
	}
	s0, err0 := intList(c.Inputs[0])
	s1, err1 := intList(c.Inputs[1])
	if err0 != nil || err1 != nil || c.Inputs[0].DType() != c.Inputs[1].DType() {
		return nil, c.Errorf("s0 and s1 must be integer vectors of one dtype, got %v%v and %v%v",
			c.Inputs[0].DType(), c.Inputs[0].StaticShape(), c.Inputs[1].DType(), c.Inputs[1].StaticShape())
	}
	var r0, r1 []int
	if !equalDims(s0, s1) {
		rank := max(len(s0), len(s1))
		for i := 0; i < rank; i++ {
			a, b := 1, 1
			if j := i - (rank - len(s0)); j >= 0 {
				a = s0[j]
			}
			if j := i - (rank - len(s1)); j >= 0 {
				b = s1[j]
			}
			if a != b && a != 1 && b != 1 {
				return nil, c.Errorf("incompatible shapes %v and %v", s0, s1)
			}
			if a == 1 {
				r0 = append(r0, i)
			}
			if b == 1 {
				r1 = append(r1, i)
			}
		}
	}
	mk := func(v []int) *tfops.Tensor {
		if c.Inputs[0].DType() == tfops.Int64 {
			o := make([]int64, len(v))
			for i, x := range v {
				o[i] = int64(x)
			}
			return tfops.MustFromSlice(o, len(o))
		}
		o := make([]int32, len(v))
		for i, x := range v {
			o[i] = int32(x)
		}
		return tfops.MustFromSlice(o, len(o))
	}
	return []*tfops.Tensor{mk(r0), mk(r1)}, nil
}

// updateVariables locks the variables behind resource inputs idx (each
// once, in key order so concurrent updates cannot deadlock), checks that
// they are initialized float variables of one dtype and shape, hands fn
// fresh copies of their values to modify, and stores the copies.
func (c *Context) updateVariables(idx []int, fn func(vals []*tfops.Tensor) error) error {
	vars := make([]*variable, len(idx))
	for k, i := range idx {
		v, err := c.variableInput(i)
		if err != nil {
			return err
		}
		vars[k] = v
	}
	uniq := map[*variable]bool{}
	var order []*variable
	for _, v := range vars {
		if !uniq[v] {
			uniq[v] = true
			order = append(order, v)
		}
	}
	sort.Slice(order, func(a, b int) bool { return order[a].key < order[b].key })
	for _, v := range order {
		v.mu.Lock()
		defer v.mu.Unlock()
	}
	fresh := map[*variable]*tfops.Tensor{}
	vals := make([]*tfops.Tensor, len(vars))
	for k, v := range vars {
		if v.value == nil {
			return c.Errorf("variable %q is uninitialized", v.name)
		}
		if k > 0 && (v.value.DType() != vals[0].DType() || !equalDims(v.value.Shape(), vals[0].Shape())) {
			return c.Errorf("variable %q (%v%v) does not match variable %q (%v%v)", v.name, v.value.DType(), v.value.StaticShape(), vars[0].name, vals[0].DType(), vals[0].StaticShape())
		}
		t, ok := fresh[v]
		if !ok {
			t = v.value.Clone()
			fresh[v] = t
		}
		vals[k] = t
	}
	if d := vals[0].DType(); d != tfops.Float && d != tfops.Double {
		return c.Errorf("variable %q is %v; optimizers update float32 or float64 variables", vars[0].name, d)
	}
	if err := fn(vals); err != nil {
		return err
	}
	for v, t := range fresh {
		v.value = t
	}
	return nil
}

// floatsOf returns the elements of a float32 or float64 tensor as float64,
// checking its dtype and element count.
func (c *Context) floatsOf(i int, name string, dtype tfops.DType, n int) ([]float64, error) {
	if i >= len(c.Inputs) {
		return nil, c.Errorf("missing input %d (%s)", i, name)
	}
	t := c.Inputs[i]
	if t.DType() != dtype {
		return nil, c.Errorf("%s is %v, the variable %v", name, t.DType(), dtype)
	}
	if n >= 0 && t.NumElements() != n {
		return nil, c.Errorf("%s has shape %v, expected %d elements", name, t.StaticShape(), n)
	}
	out := make([]float64, t.NumElements())
	switch d := t.Data().(type) {
	case []float32:
		for k, v := range d {
			out[k] = float64(v)
		}
	case []float64:
		copy(out, d)
	}
	return out, nil
}

// elementwise applies f to each index of the float tensors ts (all the
// same dtype and size), with values loaded and stored in the tensors' own
// precision: f reads x[k] and writes back through the returned slice.
func elementwise(ts []*tfops.Tensor, f func(x []float64)) {
	n := ts[0].NumElements()
	x := make([]float64, len(ts))
	for i := 0; i < n; i++ {
		for k, t := range ts {
			switch d := t.Data().(type) {
			case []float32:
				x[k] = float64(d[i])
			case []float64:
				x[k] = d[i]
			}
		}
		f(x)
		for k, t := range ts {
			switch d := t.Data().(type) {
			case []float32:
				d[i] = float32(x[k])
			case []float64:
				d[i] = x[k]
			}
		}
	}
}

// applyGradientDescentKernel: var -= alpha · delta.
func applyGradientDescentKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(3); err != nil {
		return nil, err
	}
	return nil, c.updateVariables([]int{0}, func(v []*tfops.Tensor) error {
		alpha, err := c.floatsOf(1, "alpha", v[0].DType(), 1)
		if err != nil {
			return err
		}
		g := c.Inputs[2]
		if g.DType() != v[0].DType() || !equalDims(g.Shape(), v[0].Shape()) {
			return c.Errorf("delta %v%v does not match the variable %v%v", g.DType(), g.StaticShape(), v[0].DType(), v[0].StaticShape())
		}
		// In the variable's precision, var - delta·alpha, as Eigen computes it.
		switch d := v[0].Data().(type) {
		case []float32:
			a := float32(alpha[0])
			for i, gv := range g.Float32s() {
				d[i] -= gv * a
			}
		case []float64:
			for i, gv := range g.Float64s() {
				d[i] -= gv * alpha[0]
			}
		}
		return nil
	})
}

// applyMomentumKernel implements ResourceApplyMomentum (keras false):
//
//	accum = accum·momentum + grad;  var -= accum·lr
//	(nesterov: var -= grad·lr + accum·momentum·lr)
//
// and ResourceApplyKerasMomentum (keras true):
//
//	accum = accum·momentum - grad·lr;  var += accum
//	(nesterov: var += accum·momentum - grad·lr)
//
// Inputs: var, accum, lr, grad, momentum.
func applyMomentumKernel(keras bool) Kernel {
	return func(c *Context) ([]*tfops.Tensor, error) {
		if err := c.CheckInputs(5); err != nil {
			return nil, err
		}
		nesterov, err := c.AttrBoolOr("use_nesterov", false)
		if err != nil {
			return nil, err
		}
		return nil, c.updateVariables([]int{0, 1}, func(v []*tfops.Tensor) error {
			dt, n := v[0].DType(), v[0].NumElements()
			lr, err := c.floatsOf(2, "lr", dt, 1)
			if err != nil {
				return err
			}
			mom, err := c.floatsOf(4, "momentum", dt, 1)
			if err != nil {
				return err
			}
			grad, err := c.floatsOf(3, "grad", dt, n)
			if err != nil {
				return err
			}
			i := 0
			elementwise(v, func(x []float64) {
				g := grad[i]
				i++
				if keras {
					x[1] = x[1]*mom[0] - g*lr[0]
					if nesterov {
						x[0] += x[1]*mom[0] - g*lr[0]
					} else {
						x[0] += x[1]
					}
					return
				}
				x[1] = x[1]*mom[0] + g
				if nesterov {
					x[0] -= g*lr[0] + x[1]*mom[0]*lr[0]
				} else {
					x[0] -= x[1] * lr[0]
				}
			})
			return nil
		})
	}
}

// applyAdamKernel implements ResourceApplyAdam; inputs var, m, v,
// beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad:
//
//	lr_t = lr · sqrt(1 - beta2_power) / (1 - beta1_power)
//	m += (grad - m)·(1 - beta1);  v += (grad² - v)·(1 - beta2)
//	var -= m·lr_t / (sqrt(v) + epsilon)
//	(nesterov: var -= (m·beta1 + grad·(1 - beta1))·lr_t / (sqrt(v) + epsilon))
func applyAdamKernel(c *Context) ([]*tfops.Tensor, error) {
	if err := c.CheckInputs(10); err != nil {
		return nil, err
	}
	nesterov, err := c.AttrBoolOr("use_nesterov", false)
	if err != nil {
		return nil, err
	}
	return nil, c.updateVariables([]int{0, 1, 2}, func(v []*tfops.Tensor) error {
		dt, n := v[0].DType(), v[0].NumElements()
		var s [6]float64
		for k, name := range []string{"beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon"} {
			x, err := c.floatsOf(3+k, name, dt, 1)
			if err != nil {
				return err
			}
			s[k] = x[0]
		}
		b1p, b2p, lr, b1, b2, eps := s[0], s[1], s[2], s[3], s[4], s[5]
		grad, err := c.floatsOf(9, "grad", dt, n)
		if err != nil {
			return err
		}
		lrt := lr * math.Sqrt(1-b2p) / (1 - b1p)
		i := 0
		elementwise(v, func(x []float64) {
			g := grad[i]
			i++
			x[1] += (g - x[1]) * (1 - b1)
			x[2] += (g*g - x[2]) * (1 - b2)
			if nesterov {
				x[0] -= (x[1]*b1 + g*(1-b1)) * lrt / (math.Sqrt(x[2]) + eps)
			} else {
				x[0] -= x[1] * lrt / (math.Sqrt(x[2]) + eps)
			}
		})
		return nil
	})
}
