package goengine_test

import (
	"context"
	"errors"
	"fmt"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	fpb "github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	opdefpb "github.com/wamuir/graft/tensorflow/core/framework/op_def_go_proto"
	typespb "github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

// The Go engine runs TensorFlow 2's functional control flow: a While loop
// whose cond and body are functions of the graph's library, here writing
// x, 2x, 4x, ... into a TensorList that TensorListStack turns into one
// tensor. Limits.MaxLoopIterations bounds the loop.
func Example_whileLoop() {
	attr := func(v any) *attrpb.AttrValue { a, _ := tfops.AttrValue(v); return a }
	i32 := map[string]*attrpb.AttrValue{"T": attr(tfops.Int32)}
	args := []*opdefpb.OpDef_ArgDef{{Name: "i", Type: typespb.DataType_DT_INT32}, {Name: "n", Type: typespb.DataType_DT_INT32},
		{Name: "x", Type: typespb.DataType_DT_FLOAT}, {Name: "list", Type: typespb.DataType_DT_VARIANT}}
	cond := &fpb.FunctionDef{
		Signature: &opdefpb.OpDef{Name: "cond", InputArg: args, OutputArg: []*opdefpb.OpDef_ArgDef{{Name: "c", Type: typespb.DataType_DT_BOOL}}},
		NodeDef:   []*nodepb.NodeDef{{Name: "less", Op: "Less", Input: []string{"i", "n"}, Attr: i32}},
		Ret:       map[string]string{"c": "less:z:0"},
	}
	body := &fpb.FunctionDef{
		Signature: &opdefpb.OpDef{Name: "body", InputArg: args, OutputArg: args},
		NodeDef: []*nodepb.NodeDef{
			{Name: "one", Op: "Const", Attr: map[string]*attrpb.AttrValue{"dtype": attr(tfops.Int32), "value": attr(tfops.FromScalar(int32(1)))}},
			{Name: "two", Op: "Const", Attr: map[string]*attrpb.AttrValue{"dtype": attr(tfops.Float), "value": attr(tfops.FromScalar(float32(2)))}},
			{Name: "set", Op: "TensorListSetItem", Input: []string{"list", "i", "x"}, Attr: map[string]*attrpb.AttrValue{"element_dtype": attr(tfops.Float)}},
			{Name: "next_i", Op: "AddV2", Input: []string{"i", "one:output:0"}, Attr: i32},
			{Name: "next_x", Op: "Mul", Input: []string{"x", "two:output:0"}, Attr: map[string]*attrpb.AttrValue{"T": attr(tfops.Float)}},
		},
		Ret: map[string]string{"i": "next_i:z:0", "n": "n", "x": "next_x:z:0", "list": "set:output_handle:0"},
	}
	s := tfops.NewScope()
	s.AddFunction(cond)
	s.AddFunction(body)
	n := tfops.Const(s.WithOpName("n"), tfops.FromScalar(int32(4)))
	shape := tfops.Const(s.WithOpName("shape"), tfops.MustFromSlice([]int32{2}, 1))
	list := s.AddOp(tfops.OpSpec{Type: "TensorListReserve", Name: "reserve", Inputs: []any{shape, n},
		Attrs: map[string]any{"element_dtype": tfops.Float, "shape_type": tfops.Int32}, Outputs: []tfops.OutputInfo{{DType: tfops.Variant}}})
	loop := s.AddOp(tfops.OpSpec{Type: "StatelessWhile", Name: "while",
		Inputs: []any{tfops.Const(s.WithOpName("i0"), tfops.FromScalar(int32(0))), n,
			tfops.Const(s.WithOpName("x0"), tfops.MustFromSlice([]float32{1, -0.5}, 2)), list.Output(0)},
		Attrs: map[string]any{"T": []tfops.DType{tfops.Int32, tfops.Int32, tfops.Float, tfops.Variant},
			"cond": tfops.Func{Name: "cond"}, "body": tfops.Func{Name: "body"}},
		Outputs: []tfops.OutputInfo{{DType: tfops.Int32}, {DType: tfops.Int32}, {DType: tfops.Float}, {DType: tfops.Variant}}})
	stack := s.AddOp(tfops.OpSpec{Type: "TensorListStack", Name: "stack", Inputs: []any{loop.Output(3), shape},
		Attrs: map[string]any{"element_dtype": tfops.Float}, Outputs: []tfops.OutputInfo{{DType: tfops.Float}}})
	gd, err := s.Finalize()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, limit := range []int{0, 3} {
		sess, err := goengine.Engine{}.NewSession(gd, engine.SessionOptions{Limits: engine.Limits{MaxLoopIterations: limit}})
		if err != nil {
			fmt.Println(err)
			return
		}
		out, err := sess.Run(context.Background(), nil, []string{stack.Output(0).Name()}, nil)
		sess.Close()
		switch {
		case errors.Is(err, engine.ErrLimit):
			fmt.Println("MaxLoopIterations 3: limit exceeded")
		case err != nil:
			fmt.Println(err)
		default:
			fmt.Println(out[0].Shape(), out[0].Float32s())
		}
	}
	// Output:
	// [4 2] [1 -0.5 2 -1 4 -2 8 -4]
	// MaxLoopIterations 3: limit exceeded
}
