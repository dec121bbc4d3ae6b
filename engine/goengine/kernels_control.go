package goengine

import (
	"fmt"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/tfops"
	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
)

// Functional control flow (TensorFlow 2): While, If and Case run functions
// of the graph's library, as tensorflow/core/kernels/functional_ops.cc
// does; the op definitions are in tensorflow/core/ops/functional_ops.cc.
// Keras recurrent layers are a While loop over time steps whose loop
// variables include TensorLists (kernels_tensorlist.go) and the layer's
// resource variables.
//
// The Stateless variants run the same way; TensorFlow only lets its
// optimizers prune or deduplicate them.

func init() {
	whileDef := func(stateful bool) OpDef {
		return OpDef{Kernel: whileKernel, Stateful: stateful,
			OutputArgs: []OutputArg{{Name: "output", TypeListAttr: "T"}}}
	}
	RegisterOp("While", whileDef(true))
	RegisterOp("StatelessWhile", whileDef(false))
	branchDef := func(k Kernel, stateful bool) OpDef {
		return OpDef{Kernel: k, Stateful: stateful,
			OutputArgs: []OutputArg{{Name: "output", TypeListAttr: "Tout"}}}
	}
	RegisterOp("If", branchDef(ifKernel, true))
	RegisterOp("StatelessIf", branchDef(ifKernel, false))
	RegisterOp("Case", branchDef(caseKernel, true))
	RegisterOp("StatelessCase", branchDef(caseKernel, false))
}

// toBool is ToBool in functional_ops.cc: a scalar is true when non-zero
// (bool: true; string: non-empty); a tensor of any other rank is true when
// it has elements.
func toBool(ts []*tfops.Tensor) (bool, error) {
	if len(ts) != 1 {
		//lint:ignore ST1005 TensorFlow's message, verbatim
		return false, fmt.Errorf("Expected a single scalar which can be converted to a boolean, got %d tensors.", len(ts))
	}
	t := ts[0]
	if t.Rank() != 0 {
		return t.NumElements() > 0, nil
	}
	switch v := t.Data().(type) {
	case []bool:
		return v[0], nil
	case []float32:
		return v[0] != 0, nil
	case []float64:
		return v[0] != 0, nil
	case []int32:
		return v[0] != 0, nil
	case []int64:
		return v[0] != 0, nil
	case []uint8:
		return v[0] != 0, nil
	case []int16:
		return v[0] != 0, nil
	case []int8:
		return v[0] != 0, nil
	case []string:
		return v[0] != "", nil
	}
	return false, fmt.Errorf("%v cannot be converted to a boolean", t.DType())
}

// checkTypes checks tensors ts against the type-list attr (when the node
// has it): count and dtypes. what names the tensors in errors.
func (c *Context) checkTypes(attr, what string, ts []*tfops.Tensor) error {
	if c.Attr(attr) == nil {
		return nil
	}
	types, err := c.AttrTypes(attr)
	if err != nil {
		return err
	}
	if len(types) != len(ts) {
		return c.Errorf("%s: %d tensors, attr %s lists %d", what, len(ts), attr, len(types))
	}
	for i, d := range types {
		if ts[i].DType() != d.Base() {
			return c.Errorf("%s %d is %v, attr %s says %v", what, i, ts[i].DType(), attr, d)
		}
	}
	return nil
}

// checkOutputShapes checks ts against attr output_shapes when it lists one
// shape per tensor (TensorFlow checks them while building the graph; a
// shape that disagrees at run time means the graph is wrong).
func (c *Context) checkOutputShapes(what string, ts []*tfops.Tensor) error {
	a := c.Attr("output_shapes")
	if a == nil {
		return nil
	}
	shapes := a.GetList().GetShape()
	if len(shapes) != len(ts) {
		return nil
	}
	for i, p := range shapes {
		s := tfops.ShapeFromProto(p)
		if ts[i].DType() == tfops.Resource || ts[i].DType() == tfops.Variant {
			continue
		}
		if !s.CompatibleWith(ts[i].StaticShape()) {
			return c.Errorf("%s %d has shape %s, attr output_shapes says %s", what, i, dimsString(ts[i].Shape()), s)
		}
	}
	return nil
}

// whileKernel: While(input) with attrs T, cond, body. cond runs on the loop
// variables and returns one tensor converted by toBool; while it is true,
// body maps the loop variables to their next values (same count and
// dtypes). The outputs are the loop variables after the last iteration.
// The loop stops with an error after Limits.MaxLoopIterations iterations,
// and when the run's context is done.
func whileKernel(c *Context) ([]*tfops.Tensor, error) {
	cond, err := c.AttrFunc("cond")
	if err != nil {
		return nil, err
	}
	body, err := c.AttrFunc("body")
	if err != nil {
		return nil, err
	}
	if err := c.checkTypes("T", "input", c.Inputs); err != nil {
		return nil, err
	}
	vars := c.Inputs
	limit := c.State.limits.MaxLoopIterations
	for iter := 0; ; iter++ {
		if err := c.Ctx.Err(); err != nil {
			return nil, err
		}
		cv, err := c.CallFunction(cond.GetName(), vars)
		if err != nil {
			return nil, err
		}
		if len(cv) != 1 {
			return nil, c.Errorf("cond function %q: Expected a single scalar return value from WhileOp cond, got %d tensors.", cond.GetName(), len(cv))
		}
		more, err := toBool(cv)
		if err != nil {
			return nil, c.Errorf("cond function %q: %w", cond.GetName(), err)
		}
		if !more {
			break
		}
		if iter >= limit {
			return nil, fmt.Errorf("%w: MaxLoopIterations: the loop did not end after %d iterations", engine.ErrLimit, limit)
		}
		next, err := c.CallFunction(body.GetName(), vars)
		if err != nil {
			return nil, err
		}
		if len(next) != len(vars) {
			return nil, c.Errorf("body function %q: While loop body returned %d arguments. Expected: %d.", body.GetName(), len(next), len(vars))
		}
		for i, t := range next {
			if t.DType() != vars[i].DType() {
				return nil, c.Errorf("body function %q: Expected type %v for return value %d but got %v.", body.GetName(), vars[i].DType(), i, t.DType())
			}
		}
		vars = next
	}
	if err := c.checkOutputShapes("loop variable", vars); err != nil {
		return nil, err
	}
	return vars, nil
}

// callBranch runs function name on args and checks its results against
// attr Tout and output_shapes.
func (c *Context) callBranch(name string, args []*tfops.Tensor) ([]*tfops.Tensor, error) {
	if err := c.checkTypes("Tin", "input", args); err != nil {
		return nil, err
	}
	outs, err := c.CallFunction(name, args)
	if err != nil {
		return nil, err
	}
	if err := c.checkTypes("Tout", fmt.Sprintf("function %q output", name), outs); err != nil {
		return nil, err
	}
	if err := c.checkOutputShapes(fmt.Sprintf("function %q output", name), outs); err != nil {
		return nil, err
	}
	return outs, nil
}

// ifKernel: If(cond, input) with attrs then_branch, else_branch runs one
// branch on input; cond is converted by toBool.
func ifKernel(c *Context) ([]*tfops.Tensor, error) {
	if len(c.Inputs) < 1 {
		return nil, c.Errorf("expects the cond input")
	}
	then, err := c.AttrFunc("then_branch")
	if err != nil {
		return nil, err
	}
	els, err := c.AttrFunc("else_branch")
	if err != nil {
		return nil, err
	}
	b, err := toBool(c.Inputs[:1])
	if err != nil {
		return nil, c.Errorf("cond: %w", err)
	}
	f := els
	if b {
		f = then
	}
	return c.callBranch(f.GetName(), c.Inputs[1:])
}

// caseKernel: Case(branch_index, input) with attr branches runs
// branches[branch_index] on input; an index out of range runs the last
// branch, as TensorFlow's CaseOp does.
func caseKernel(c *Context) ([]*tfops.Tensor, error) {
	if len(c.Inputs) < 1 {
		return nil, c.Errorf("expects the branch_index input")
	}
	branches, err := required(c, "branches", "a list(func)", func(v *attrpb.AttrValue_List) []*attrpb.NameAttrList { return v.List.GetFunc() })
	if err != nil {
		return nil, err
	}
	if len(branches) == 0 {
		return nil, c.Errorf("attr branches is empty")
	}
	idx := c.Inputs[0]
	if idx.DType() != tfops.Int32 {
		return nil, c.Errorf("branch_index must be int32, got %v", idx.DType())
	}
	if idx.Rank() != 0 {
		return nil, c.Errorf("branch_index must be scalar")
	}
	b := int(idx.Int32s()[0])
	if b < 0 || b >= len(branches) {
		b = len(branches) - 1
	}
	return c.callBranch(branches[b].GetName(), c.Inputs[1:])
}
