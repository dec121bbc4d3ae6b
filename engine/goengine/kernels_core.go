package goengine

import (
	"errors"
	"fmt"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/tfops"
)

// Kernels of the graph plumbing: inputs, constants, identity and no-ops.

func init() {
	Register("Placeholder", func(c *Context) ([]*tfops.Tensor, error) {
		return nil, c.Errorf("placeholder %q must be fed", c.Node.GetName())
	})
	Register("PlaceholderWithDefault", identityKernel)
	Register("Identity", identityKernel)
	Register("StopGradient", identityKernel)
	Register("Snapshot", identityKernel)
	Register("PreventGradient", identityKernel)
	RegisterOp("IdentityN", OpDef{Kernel: func(c *Context) ([]*tfops.Tensor, error) {
		return append([]*tfops.Tensor{}, c.Inputs...), nil
	}, OutputArgs: []OutputArg{{Name: "output", TypeListAttr: "T"}}})
	Register("NoOp", func(c *Context) ([]*tfops.Tensor, error) { return nil, nil })
	Register("Const", constKernel)
}

func identityKernel(c *Context) ([]*tfops.Tensor, error) {
	if len(c.Inputs) < 1 {
		return nil, c.Errorf("expects 1 input, got 0")
	}
	return []*tfops.Tensor{c.Inputs[0]}, nil
}

func constKernel(c *Context) ([]*tfops.Tensor, error) {
	a := c.Attr("value")
	if a == nil {
		return nil, c.Errorf("Const has no value attr")
	}
	if t, ok := c.State.consts.Load(a); ok {
		return []*tfops.Tensor{t.(*tfops.Tensor)}, nil
	}
	v, ok := a.GetValue().(*attrpb.AttrValue_Tensor)
	if !ok {
		return nil, c.Errorf("Const value attr is not a tensor")
	}
	t, err := tfops.FromProtoLimit(v.Tensor, c.State.limits.MaxTensorBytes)
	if errors.Is(err, tfops.ErrTooBig) {
		return nil, fmt.Errorf("%w: MaxTensorBytes: Const value: %w", engine.ErrLimit, err)
	} else if err != nil {
		return nil, fmt.Errorf("%w: Const value: %w", engine.ErrKernel, err)
	}
	c.State.consts.Store(a, t)
	return []*tfops.Tensor{t}, nil
}
