package enginetest

import (
	"fmt"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	fpb "github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	opdefpb "github.com/wamuir/graft/tensorflow/core/framework/op_def_go_proto"
	typespb "github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"

	"github.com/tfseg/tfseg/tfops"
)

// FuncBuilder writes a FunctionDef as TensorFlow 2 does, for the bodies of
// While, If and Case in test graphs: typed input and output args, nodes
// whose inputs are function args ("x") or other nodes' outputs
// ("node:out_arg:index"), and every attr given explicitly (TensorFlow does
// not fill OpDef defaults into function bodies for every op).
type FuncBuilder struct {
	fd  *fpb.FunctionDef
	err error
}

// Arg is a function argument or result.
type Arg struct {
	// Name is the argument's name in the function signature, DType its type.
	Name  string
	DType tfops.DType
}

// NewFunc starts a function with the given arguments.
func NewFunc(name string, args ...Arg) *FuncBuilder {
	sig := &opdefpb.OpDef{Name: name}
	for _, a := range args {
		sig.InputArg = append(sig.InputArg, &opdefpb.OpDef_ArgDef{Name: a.Name, Type: typespb.DataType(a.DType)})
	}
	return &FuncBuilder{fd: &fpb.FunctionDef{Signature: sig, Ret: map[string]string{}}}
}

// outArgs names the first output arg of ops whose OpDef does not call it
// "output", for "node:arg:0" references.
var outArgs = map[string]string{
	"MatMul": "product", "Sigmoid": "y", "Tanh": "y", "Cast": "y", "Neg": "y",
	"AddV2": "z", "Add": "z", "Mul": "z", "Sub": "z", "Less": "z", "Greater": "z",
	"LogicalAnd": "z", "Equal": "z", "FloorMod": "z", "Maximum": "z", "Minimum": "z",
	"ReadVariableOp": "value", "TensorListGetItem": "item", "TensorListSetItem": "output_handle",
	"TensorListPushBack": "output_handle", "TensorListLength": "length",
}

// Op adds node name of type op and returns the reference to its first
// output. Attr values are converted with tfops.AttrValue.
func (b *FuncBuilder) Op(op, name string, attrs map[string]any, inputs ...string) string {
	nd := &nodepb.NodeDef{Name: name, Op: op, Input: inputs, Attr: map[string]*attrpb.AttrValue{}}
	for k, v := range attrs {
		a, err := tfops.AttrValue(v)
		if err != nil && b.err == nil {
			b.err = fmt.Errorf("function %s: node %s: attr %s: %w", b.fd.GetSignature().GetName(), name, k, err)
		}
		nd.Attr[k] = a
	}
	b.fd.NodeDef = append(b.fd.NodeDef, nd)
	arg, ok := outArgs[op]
	if !ok {
		arg = "output"
	}
	return name + ":" + arg + ":0"
}

// Const adds a Const node holding v.
func (b *FuncBuilder) Const(name string, v *tfops.Tensor) string {
	return b.Op("Const", name, map[string]any{"dtype": v.DType(), "value": v})
}

// Ret adds a result: ref is a node output or an argument name.
func (b *FuncBuilder) Ret(name string, dtype tfops.DType, ref string) {
	b.fd.Signature.OutputArg = append(b.fd.Signature.OutputArg, &opdefpb.OpDef_ArgDef{Name: name, Type: typespb.DataType(dtype)})
	b.fd.Ret[name] = ref
}

// Name is the function's name.
func (b *FuncBuilder) Name() string { return b.fd.GetSignature().GetName() }

// Def returns the FunctionDef, or the first error an attr gave.
func (b *FuncBuilder) Def() (*fpb.FunctionDef, error) { return b.fd, b.err }

// AddTo adds the function to s's library (an error goes to s).
func (b *FuncBuilder) AddTo(s *tfops.Scope) {
	if b.err != nil {
		s.SetErr(b.err)
		return
	}
	s.AddFunction(b.fd)
}
