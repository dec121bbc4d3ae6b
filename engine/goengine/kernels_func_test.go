package goengine_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	fpb "github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	opdefpb "github.com/wamuir/graft/tensorflow/core/framework/op_def_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

func funcAttr(t *testing.T, v any) *attrpb.AttrValue {
	t.Helper()
	a, err := tfops.AttrValue(v)
	require.NoError(t, err)
	return a
}

// funcSwap returns (y, x) for inputs (x, y), through Identity nodes.
func funcSwap(t *testing.T) *fpb.FunctionDef {
	return &fpb.FunctionDef{
		Signature: &opdefpb.OpDef{
			Name:      "swap",
			InputArg:  []*opdefpb.OpDef_ArgDef{{Name: "x"}, {Name: "y"}},
			OutputArg: []*opdefpb.OpDef_ArgDef{{Name: "a"}, {Name: "b"}},
		},
		NodeDef: []*nodepb.NodeDef{
			{Name: "ix", Op: "Identity", Input: []string{"x"}},
			{Name: "iy", Op: "Identity", Input: []string{"y"}},
		},
		Ret: map[string]string{"a": "iy:output:0", "b": "ix:output:0"},
	}
}

// funcOuter calls swap twice through PartitionedCall, returning the inputs
// unchanged, and once more for a third output.
func funcOuter(t *testing.T) *fpb.FunctionDef {
	call := func(name string, in ...string) *nodepb.NodeDef {
		return &nodepb.NodeDef{Name: name, Op: "PartitionedCall", Input: in, Attr: map[string]*attrpb.AttrValue{
			"f":    funcAttr(t, tfops.Func{Name: "swap"}),
			"Tin":  funcAttr(t, []tfops.DType{tfops.Float, tfops.Float}),
			"Tout": funcAttr(t, []tfops.DType{tfops.Float, tfops.Float}),
		}}
	}
	return &fpb.FunctionDef{
		Signature: &opdefpb.OpDef{
			Name:      "outer",
			InputArg:  []*opdefpb.OpDef_ArgDef{{Name: "p"}, {Name: "q"}},
			OutputArg: []*opdefpb.OpDef_ArgDef{{Name: "r0"}, {Name: "r1"}, {Name: "r2"}},
		},
		NodeDef: []*nodepb.NodeDef{
			call("first", "p", "q"),
			call("second", "first:output:0", "first:output:1"),
		},
		Ret: map[string]string{"r0": "second:output:0", "r1": "second:output:1", "r2": "first:output:0"},
	}
}

func TestPartitionedCallNested(t *testing.T) {
	for _, op := range []string{"PartitionedCall", "StatefulPartitionedCall"} {
		t.Run(op, func(t *testing.T) {
			s := tfops.NewScope()
			s.AddFunction(funcSwap(t))
			s.AddFunction(funcOuter(t))
			x := tfops.Const(s.WithOpName("x"), tfops.MustFromSlice([]float32{1, 2}, 2))
			y := tfops.Const(s.WithOpName("y"), tfops.FromScalar(float32(3)))
			s.AddOp(tfops.OpSpec{Type: op, Name: "call", Inputs: []any{x, y},
				Attrs: map[string]any{"f": tfops.Func{Name: "outer"}, "Tin": []tfops.DType{tfops.Float, tfops.Float},
					"Tout": []tfops.DType{tfops.Float, tfops.Float, tfops.Float}},
				Outputs: []tfops.OutputInfo{{DType: tfops.Float}, {DType: tfops.Float}, {DType: tfops.Float}}})
			sess := goSession(t, s)
			out, err := sess.Run(context.Background(), nil, []string{"call:0", "call:1", "call:2"}, nil)
			require.NoError(t, err)
			assert.Equal(t, []float32{1, 2}, out[0].Float32s())
			assert.Equal(t, []float32{3}, out[1].Float32s())
			assert.Equal(t, []float32{3}, out[2].Float32s())
		})
	}
}

func TestPartitionedCallErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		attrs map[string]any
		limit int
		want  string
	}{
		{"unknown function", map[string]any{"f": tfops.Func{Name: "nope"}, "Tout": []tfops.DType{tfops.Float, tfops.Float}}, 0, `function "nope" is not in the graph's library`},
		{"Tout count", map[string]any{"f": tfops.Func{Name: "swap"}, "Tout": []tfops.DType{tfops.Float}}, 0, `function "swap" output: 2 tensors, attr Tout lists 1`},
		{"Tin type", map[string]any{"f": tfops.Func{Name: "swap"}, "Tin": []tfops.DType{tfops.Int32, tfops.Float}, "Tout": []tfops.DType{tfops.Float, tfops.Float}}, 0, "input 0 is float32, attr Tin says int32"},
		{"depth limit", map[string]any{"f": tfops.Func{Name: "outer"}, "Tout": []tfops.DType{tfops.Float, tfops.Float, tfops.Float}}, 1, "MaxFunctionDepth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tfops.NewScope()
			s.AddFunction(funcSwap(t))
			s.AddFunction(funcOuter(t))
			x := tfops.Const(s.WithOpName("x"), tfops.FromScalar(float32(1)))
			s.AddOp(tfops.OpSpec{Type: "PartitionedCall", Name: "call", Inputs: []any{x, x}, Attrs: tc.attrs,
				Outputs: []tfops.OutputInfo{{DType: tfops.Float}}})
			gd, err := s.Finalize()
			require.NoError(t, err)
			sess, err := goengine.Engine{}.NewSession(gd, engine.SessionOptions{Limits: engine.Limits{MaxFunctionDepth: tc.limit}})
			require.NoError(t, err)
			defer sess.Close()
			_, err = sess.Run(context.Background(), nil, []string{"call:0"}, nil)
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, `"call"`)
		})
	}
}
