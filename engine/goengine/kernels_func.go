package goengine

import (
	"github.com/tfseg/tfseg/tfops"
)

// Kernels that call functions of the graph's library. TensorFlow 2 puts a
// SavedModel's computation in functions (one per tf.function trace) and calls
// them from the graph with PartitionedCall and StatefulPartitionedCall;
// Keras nests such calls a few levels deep.

func init() {
	callDef := func(stateful bool) OpDef {
		return OpDef{
			Kernel:     callKernel,
			OutputArgs: []OutputArg{{Name: "output", TypeListAttr: "Tout"}},
			Stateful:   stateful,
		}
	}
	RegisterOp("PartitionedCall", callDef(false))
	RegisterOp("StatefulPartitionedCall", callDef(true))
}

// callKernel runs the function named by attr f on the node's inputs and
// checks that it returns what attr Tout promises.
func callKernel(c *Context) ([]*tfops.Tensor, error) {
	f, err := c.AttrFunc("f")
	if err != nil {
		return nil, err
	}
	tout, err := c.AttrTypes("Tout")
	if err != nil {
		return nil, err
	}
	tin, err := c.AttrTypes("Tin")
	if err != nil {
		return nil, err
	}
	if c.Attr("Tin") != nil && len(tin) != len(c.Inputs) {
		return nil, c.Errorf("attr Tin lists %d inputs, the node has %d", len(tin), len(c.Inputs))
	}
	for i, t := range tin {
		if c.Inputs[i].DType() != t.Base() {
			return nil, c.Errorf("input %d is %v, attr Tin says %v", i, c.Inputs[i].DType(), t)
		}
	}
	outs, err := c.CallFunction(f.GetName(), c.Inputs)
	if err != nil {
		return nil, err
	}
	if c.Attr("Tout") != nil {
		if len(outs) != len(tout) {
			return nil, c.Errorf("function %q returned %d outputs, attr Tout lists %d", f.GetName(), len(outs), len(tout))
		}
		for i, t := range tout {
			if outs[i].DType() != t.Base() {
				return nil, c.Errorf("function %q output %d is %v, attr Tout says %v", f.GetName(), i, outs[i].DType(), t)
			}
		}
	}
	return outs, nil
}
