package savedmodel

import (
	"fmt"

	"github.com/tfseg/tfseg/tfops"
	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
)

// This file holds the variable ops a graph with state needs, as tfops
// constructors, and the TF1-style save/restore subgraph Write adds for
// Export.Variables, which is what TensorFlow's loader runs to restore them
// (tensorflow/cc/saved_model/loader.cc, RunRestore: it feeds the SaverDef's
// filename tensor with the string "<dir>/variables/variables" and runs its
// restore op).

// VarHandleOp creates a resource variable of dtype and shape, named name in
// scope s. Its shared_name is the node's name, so that every session of the
// graph finds the same variable. Read it with ReadVariableOp; list its node
// name in Export.Variables to store its value in the SavedModel.
func VarHandleOp(s *tfops.Scope, name string, dtype tfops.DType, shape tfops.Shape) tfops.Output {
	if s.Err() != nil {
		return tfops.Output{}
	}
	op := s.AddOp(tfops.OpSpec{Type: "VarHandleOp", Name: name,
		Attrs:   map[string]any{"dtype": dtype, "shape": shape, "container": "", "shared_name": ""},
		Outputs: []tfops.OutputInfo{{DType: tfops.Resource, Shape: tfops.ScalarShape()}}})
	if op == nil {
		return tfops.Output{}
	}
	// The scope may have prefixed or suffixed the name; shared_name must be
	// the final node name. Attr returns the node's own AttrValue.
	op.Attr("shared_name").Value = &attrpb.AttrValue_S{S: []byte(op.Name())}
	return op.Output(0)
}

// ReadVariableOp reads the value of a resource variable of dtype.
func ReadVariableOp(s *tfops.Scope, handle tfops.Output, dtype tfops.DType, shape tfops.Shape) tfops.Output {
	if s.Err() != nil {
		return tfops.Output{}
	}
	if handle.DType() != tfops.Resource {
		s.Errorf(tfops.ErrDType, "ReadVariableOp: handle %s is %v, not a resource", handle.Name(), handle.DType())
		return tfops.Output{}
	}
	op := s.AddOp(tfops.OpSpec{Type: "ReadVariableOp", Inputs: []any{handle},
		Attrs:   map[string]any{"dtype": dtype},
		Outputs: []tfops.OutputInfo{{DType: dtype, Shape: shape}}})
	return op.Output(0)
}

// AssignVariableOp assigns value to a resource variable; it has no outputs.
func AssignVariableOp(s *tfops.Scope, handle, value tfops.Output) *tfops.Operation {
	if s.Err() != nil {
		return nil
	}
	if handle.DType() != tfops.Resource {
		s.Errorf(tfops.ErrDType, "AssignVariableOp: handle %s is %v, not a resource", handle.Name(), handle.DType())
		return nil
	}
	return s.AddOp(tfops.OpSpec{Type: "AssignVariableOp", Inputs: []any{handle, value},
		Attrs: map[string]any{"dtype": value.DType()}})
}

// saverNames are the node names of a save/restore subgraph under a prefix.
type saverNames struct{ prefix string }

func (n saverNames) node(s string) string { return n.prefix + "/" + s }

// variableNode describes a variable of the graph Write saves.
type variableNode struct {
	name     string
	resource bool // VarHandleOp (else VariableV2/Variable)
	value    *tfops.Tensor
}

// addSaver appends to gd a TF1-style saver for vars (sorted by name), under
// the first free prefix "save", "save_1", ..., and returns its SaverDef:
//
//	save/filename/input  Const "model"
//	save/Const           PlaceholderWithDefault   <- the filename tensor
//	save/SaveV2          SaveV2(save/Const, names, shape_and_slices, values...)
//	save/control_dependency  Identity(save/Const, ^save/SaveV2)   <- save tensor
//	save/RestoreV2       RestoreV2(save/Const, names, shape_and_slices)
//	save/Assign_i | save/AssignVariableOp_i
//	save/restore_all     NoOp(^assigns)   <- restore op
//
// Each variable is saved under its node name, which is the checkpoint key.
func addSaver(gd *graphpb.GraphDef, vars []variableNode) (*pb.SaverDef, error) {
	taken := map[string]bool{}
	for _, n := range gd.GetNode() {
		taken[n.GetName()] = true
	}
	prefix := "save"
	for i := 1; ; i++ {
		free := true
		for name := range taken {
			if name == prefix || len(name) > len(prefix) && name[:len(prefix)+1] == prefix+"/" {
				free = false
				break
			}
		}
		if free {
			break
		}
		prefix = fmt.Sprintf("save_%d", i)
	}
	nm := saverNames{prefix}
	var nodes []*nodepb.NodeDef
	var err error
	add := func(name, op string, inputs []string, attrs map[string]any) {
		if err != nil {
			return
		}
		n := &nodepb.NodeDef{Name: nm.node(name), Op: op, Input: inputs, Attr: map[string]*attrpb.AttrValue{}}
		for k, v := range attrs {
			a, e := tfops.AttrValue(v)
			if e != nil {
				err = fmt.Errorf("%w: saver node %s attr %s: %w", ErrExport, n.Name, k, e)
				return
			}
			n.Attr[k] = a
		}
		nodes = append(nodes, n)
	}
	names := make([]string, len(vars))
	slices := make([]string, len(vars))
	dtypes := make([]tfops.DType, len(vars))
	for i, v := range vars {
		names[i] = v.name
		dtypes[i] = v.value.DType()
	}
	strVec := func(s []string) *tfops.Tensor { return tfops.MustFromSlice(append([]string{}, s...), len(s)) }
	add("filename/input", "Const", nil, map[string]any{"dtype": tfops.String, "value": tfops.FromScalar("model")})
	add("Const", "PlaceholderWithDefault", []string{nm.node("filename/input")},
		map[string]any{"dtype": tfops.String, "shape": tfops.ScalarShape()})
	add("SaveV2/tensor_names", "Const", nil, map[string]any{"dtype": tfops.String, "value": strVec(names)})
	add("SaveV2/shape_and_slices", "Const", nil, map[string]any{"dtype": tfops.String, "value": strVec(slices)})
	saveIn := []string{nm.node("Const"), nm.node("SaveV2/tensor_names"), nm.node("SaveV2/shape_and_slices")}
	for i, v := range vars {
		if v.resource {
			r := fmt.Sprintf("Read_%d/ReadVariableOp", i)
			add(r, "ReadVariableOp", []string{v.name}, map[string]any{"dtype": v.value.DType()})
			saveIn = append(saveIn, nm.node(r))
		} else {
			saveIn = append(saveIn, v.name)
		}
	}
	add("SaveV2", "SaveV2", saveIn, map[string]any{"dtypes": dtypes})
	add("control_dependency", "Identity", []string{nm.node("Const"), "^" + nm.node("SaveV2")},
		map[string]any{"T": tfops.String})
	add("RestoreV2/tensor_names", "Const", nil, map[string]any{"dtype": tfops.String, "value": strVec(names)})
	add("RestoreV2/shape_and_slices", "Const", nil, map[string]any{"dtype": tfops.String, "value": strVec(slices)})
	add("RestoreV2", "RestoreV2", []string{nm.node("Const"), nm.node("RestoreV2/tensor_names"), nm.node("RestoreV2/shape_and_slices")},
		map[string]any{"dtypes": dtypes})
	var assigns []string
	for i, v := range vars {
		out := nm.node("RestoreV2")
		if i > 0 {
			out = fmt.Sprintf("%s:%d", out, i)
		}
		var name string
		if v.resource {
			name = fmt.Sprintf("AssignVariableOp_%d", i)
			add(name, "AssignVariableOp", []string{v.name, out}, map[string]any{"dtype": v.value.DType()})
		} else {
			name = fmt.Sprintf("Assign_%d", i)
			add(name, "Assign", []string{v.name, out},
				map[string]any{"T": v.value.DType(), "use_locking": true, "validate_shape": true})
		}
		assigns = append(assigns, "^"+nm.node(name))
	}
	add("restore_all", "NoOp", assigns, nil)
	if err != nil {
		return nil, err
	}
	gd.Node = append(gd.Node, nodes...)
	return &pb.SaverDef{
		FilenameTensorName:        nm.node("Const") + ":0",
		SaveTensorName:            nm.node("control_dependency") + ":0",
		RestoreOpName:             nm.node("restore_all"),
		MaxToKeep:                 5,
		KeepCheckpointEveryNHours: 10000,
		Version:                   pb.SaverDef_V2,
	}, nil
}
