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
// checks them against attr Tin and its results against attr Tout.
func callKernel(c *Context) ([]*tfops.Tensor, error) {
	f, err := c.AttrFunc("f")
	if err != nil {
		return nil, err
	}
	return c.callBranch(f.GetName(), c.Inputs)
}
