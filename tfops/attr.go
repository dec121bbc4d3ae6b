package tfops

import (
	"fmt"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	shapepb "github.com/wamuir/graft/tensorflow/core/framework/tensor_shape_go_proto"
	typespb "github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"
)

// Func names a function in the graph's library, for "func" attrs
// (PartitionedCall's f, for example).
type Func struct {
	// Name is the function's name in the library.
	Name string
	// Attrs are the attrs the call instantiates the function with.
	Attrs map[string]any
}

// AttrValue converts a Go value to an AttrValue: int/int64 -> i,
// float32/float64 -> f, bool -> b, string -> s, DType -> type, Shape -> shape,
// *Tensor -> tensor, Func -> func, and slices of those -> list.
func AttrValue(v any) (*attrpb.AttrValue, error) {
	switch x := v.(type) {
	case *attrpb.AttrValue:
		return x, nil
	case int:
		return &attrpb.AttrValue{Value: &attrpb.AttrValue_I{I: int64(x)}}, nil
	case int64:
		return &attrpb.AttrValue{Value: &attrpb.AttrValue_I{I: x}}, nil
	case int32:
		return &attrpb.AttrValue{Value: &attrpb.AttrValue_I{I: int64(x)}}, nil
	case float32:
		return &attrpb.AttrValue{Value: &attrpb.AttrValue_F{F: x}}, nil
	case float64:
		return &attrpb.AttrValue{Value: &attrpb.AttrValue_F{F: float32(x)}}, nil
	case bool:
		return &attrpb.AttrValue{Value: &attrpb.AttrValue_B{B: x}}, nil
	case string:
		return &attrpb.AttrValue{Value: &attrpb.AttrValue_S{S: []byte(x)}}, nil
	case []byte:
		return &attrpb.AttrValue{Value: &attrpb.AttrValue_S{S: x}}, nil
	case DType:
		return &attrpb.AttrValue{Value: &attrpb.AttrValue_Type{Type: typespb.DataType(x)}}, nil
	case Shape:
		return &attrpb.AttrValue{Value: &attrpb.AttrValue_Shape{Shape: x.Proto()}}, nil
	case *Tensor:
		p, err := ToProto(x)
		if err != nil {
			return nil, err
		}
		return &attrpb.AttrValue{Value: &attrpb.AttrValue_Tensor{Tensor: p}}, nil
	case Func:
		f, err := funcProto(x)
		if err != nil {
			return nil, err
		}
		return &attrpb.AttrValue{Value: &attrpb.AttrValue_Func{Func: f}}, nil
	case []int:
		l := &attrpb.AttrValue_ListValue{I: make([]int64, len(x))}
		for i, e := range x {
			l.I[i] = int64(e)
		}
		return listAttr(l), nil
	case []int64:
		return listAttr(&attrpb.AttrValue_ListValue{I: append([]int64{}, x...)}), nil
	case []float32:
		return listAttr(&attrpb.AttrValue_ListValue{F: append([]float32{}, x...)}), nil
	case []bool:
		return listAttr(&attrpb.AttrValue_ListValue{B: append([]bool{}, x...)}), nil
	case []string:
		l := &attrpb.AttrValue_ListValue{}
		for _, e := range x {
			l.S = append(l.S, []byte(e))
		}
		return listAttr(l), nil
	case []DType:
		l := &attrpb.AttrValue_ListValue{}
		for _, e := range x {
			l.Type = append(l.Type, typespb.DataType(e))
		}
		return listAttr(l), nil
	case []Shape:
		l := &attrpb.AttrValue_ListValue{}
		for _, e := range x {
			l.Shape = append(l.Shape, e.Proto())
		}
		return listAttr(l), nil
	case []*shapepb.TensorShapeProto:
		return listAttr(&attrpb.AttrValue_ListValue{Shape: x}), nil
	}
	return nil, fmt.Errorf("%w: unsupported attr value %T", ErrArg, v)
}

func listAttr(l *attrpb.AttrValue_ListValue) *attrpb.AttrValue {
	return &attrpb.AttrValue{Value: &attrpb.AttrValue_List{List: l}}
}

func funcProto(f Func) (*attrpb.NameAttrList, error) {
	out := &attrpb.NameAttrList{Name: f.Name, Attr: map[string]*attrpb.AttrValue{}}
	for k, v := range f.Attrs {
		a, err := AttrValue(v)
		if err != nil {
			return nil, fmt.Errorf("func %s attr %s: %w", f.Name, k, err)
		}
		out.Attr[k] = a
	}
	return out, nil
}
