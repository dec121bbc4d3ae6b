package goengine_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	fpb "github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	opdefpb "github.com/wamuir/graft/tensorflow/core/framework/op_def_go_proto"
	typespb "github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

// A NodeDef that omits an attr with an OpDef default gets TensorFlow's
// default, in the graph and in function bodies: ArgMax's output_type is
// int64 (tensorflow/core/ops/math_ops.cc), whatever a kernel might assume.
func TestOmittedAttrsGetOpDefDefaults(t *testing.T) {
	typ := func(d tfops.DType) *attrpb.AttrValue {
		return &attrpb.AttrValue{Value: &attrpb.AttrValue_Type{Type: typespb.DataType(d)}}
	}
	x := tfops.MustFromSlice([]float32{1, 5, 2, 7, 3, 0}, 2, 3)
	xp, err := tfops.ToProto(x)
	require.NoError(t, err)
	axis, err := tfops.ToProto(tfops.FromScalar(int32(1)))
	require.NoError(t, err)
	argmax := &nodepb.NodeDef{Name: "am", Op: "ArgMax", Input: []string{"x", "axis"},
		Attr: map[string]*attrpb.AttrValue{"T": typ(tfops.Float)}}
	gd := &graphpb.GraphDef{Node: []*nodepb.NodeDef{
		{Name: "x", Op: "Const", Attr: map[string]*attrpb.AttrValue{"dtype": typ(tfops.Float), "value": {Value: &attrpb.AttrValue_Tensor{Tensor: xp}}}},
		{Name: "axis", Op: "Const", Attr: map[string]*attrpb.AttrValue{"dtype": typ(tfops.Int32), "value": {Value: &attrpb.AttrValue_Tensor{Tensor: axis}}}},
		argmax,
		{Name: "call", Op: "PartitionedCall", Input: []string{"x"}, Attr: map[string]*attrpb.AttrValue{
			"Tin":  {Value: &attrpb.AttrValue_List{List: &attrpb.AttrValue_ListValue{Type: []typespb.DataType{typespb.DataType_DT_FLOAT}}}},
			"Tout": {Value: &attrpb.AttrValue_List{List: &attrpb.AttrValue_ListValue{Type: []typespb.DataType{typespb.DataType_DT_INT64}}}},
			"f":    {Value: &attrpb.AttrValue_Func{Func: &attrpb.NameAttrList{Name: "f"}}}}},
	}, Library: &fpb.FunctionDefLibrary{Function: []*fpb.FunctionDef{{
		Signature: &opdefpb.OpDef{Name: "f",
			InputArg:  []*opdefpb.OpDef_ArgDef{{Name: "in", Type: typespb.DataType_DT_FLOAT}},
			OutputArg: []*opdefpb.OpDef_ArgDef{{Name: "out", Type: typespb.DataType_DT_INT64}}},
		NodeDef: []*nodepb.NodeDef{
			{Name: "axis", Op: "Const", Attr: map[string]*attrpb.AttrValue{"dtype": typ(tfops.Int32), "value": {Value: &attrpb.AttrValue_Tensor{Tensor: axis}}}},
			{Name: "am", Op: "ArgMax", Input: []string{"in", "axis:output:0"}, Attr: map[string]*attrpb.AttrValue{"T": typ(tfops.Float)}},
		},
		Ret: map[string]string{"out": "am:output:0"},
	}}}}
	sess, err := goengine.Engine{}.NewSession(gd, engine.SessionOptions{})
	require.NoError(t, err)
	defer sess.Close()
	out, err := sess.Run(context.Background(), nil, []string{"am", "call"}, nil)
	require.NoError(t, err)
	for i, o := range out {
		assert.Equal(t, tfops.Int64, o.DType(), "fetch %d", i)
		assert.Equal(t, []int64{1, 0}, o.Int64s(), "fetch %d", i) // rows (1 5 2) and (7 3 0)
	}
	assert.Len(t, argmax.GetAttr(), 1, "the caller's NodeDef is not modified")
}
