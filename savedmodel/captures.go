package savedmodel

import (
	"fmt"
	"path/filepath"
	"sort"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"

	"github.com/tfseg/tfseg/tfops"
)

// Keras 3 exports (model.export(), and tf.saved_model.save of a Keras 3
// model) restore their variables through one set of VarHandleOps
// ("Variable", "Variable_1", ...) while the serving functions capture
// another ("dense_1/bias", ...). TensorFlow 2's Python loader
// (tensorflow/python/saved_model/load.py) never runs the graph's
// VarHandleOps: it recreates each variable of the SavedObjectGraph, restores
// it from the checkpoint by object (the checkpoint's
// _CHECKPOINTABLE_OBJECT_GRAPH shares the SavedObjectGraph's node ids) and
// binds it to every concrete function that captures it (SavedConcreteFunction
// .bound_inputs). A session-based loader that only runs the SaverDef's
// restore op (TensorFlow's C++ loader, and tfseg's) leaves the captured
// handles uninitialized. CapturedVariables finds those handles, and
// CaptureRestoreGraph adds to the graph the ops that restore them from the
// checkpoint, by the same object-graph route.

// ObjectGraphKey is the checkpoint key of the serialized
// TrackableObjectGraph (tensorflow/python/checkpoint/checkpoint.py).
const ObjectGraphKey = "_CHECKPOINTABLE_OBJECT_GRAPH"

// CaptureRestoreOp is the name of the NoOp WithCaptureRestore adds; running
// it as a target assigns every captured variable.
const CaptureRestoreOp = "tfseg_restore_captured/restore_all"

// CapturedVariable is a variable that a call in the graph captures and that
// the SaverDef's restore op does not assign.
type CapturedVariable struct {
	// Handle is the graph's VarHandleOp node the call reads.
	Handle string
	// Function is the concrete function that captures it.
	Function string
	// Object is the variable's node id in the SavedObjectGraph and in the
	// checkpoint's object graph.
	Object int32
	// Key is the variable's checkpoint key.
	Key string
	// DType is the variable's element type.
	DType tfops.DType
}

// CapturedVariables lists the variables that graph-level calls of concrete
// functions capture (their bound_inputs) and the SaverDef's restore op does
// not reach, with their checkpoint keys from the bundle's object graph.
// It returns nil when every captured handle is restored by the restore op
// (every TF1 and most TF2 SavedModels), or when the MetaGraphDef has no
// SavedObjectGraph. A captured variable without a checkpoint entry, or
// whose checkpoint dtype differs from the handle's, is an error wrapping
// ErrFormat.
func (m *SavedModel) CapturedVariables(b *Bundle) ([]CapturedVariable, error) {
	og := m.MetaGraph.GetObjectGraphDef()
	gd := m.Graph()
	if og == nil || len(og.GetConcreteFunctions()) == 0 {
		return nil, nil
	}
	byName := make(map[string]*nodepb.NodeDef, len(gd.GetNode()))
	for _, n := range gd.GetNode() {
		byName[n.GetName()] = n
	}
	restored := map[string]bool{} // every VarHandleOp the restore op depends on is assigned by it
	if sd := m.SaverDef(); sd != nil && sd.GetRestoreOpName() != "" {
		for name := range m.Reachable([]string{sd.GetRestoreOpName()}, nil, nil).Nodes {
			if byName[name].GetOp() == "VarHandleOp" {
				restored[name] = true
			}
		}
	}
	var out []CapturedVariable
	seen := map[string]bool{}
	for _, n := range gd.GetNode() {
		f := n.GetAttr()["f"].GetFunc().GetName()
		cf := og.GetConcreteFunctions()[f]
		if f == "" || cf == nil || len(cf.GetBoundInputs()) == 0 {
			continue
		}
		bound := cf.GetBoundInputs()
		var data []string
		for _, in := range n.GetInput() {
			if len(in) > 0 && in[0] != '^' {
				data = append(data, in)
			}
		}
		if len(bound) > len(data) {
			return nil, fmt.Errorf("%w: %s: node %q calls %s with %d inputs, but the function captures %d",
				ErrFormat, m.File, n.GetName(), f, len(data), len(bound))
		}
		for i, id := range bound {
			h := NodeName(data[len(data)-len(bound)+i])
			hn := byName[h]
			if hn == nil || hn.GetOp() != "VarHandleOp" || restored[h] || seen[h] {
				continue
			}
			seen[h] = true
			out = append(out, CapturedVariable{Handle: h, Function: f, Object: id})
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	if b == nil {
		return nil, fmt.Errorf("%w: %s: %d captured variables (the first %q) need the variables bundle, which is missing",
			ErrNoVariables, m.File, len(out), out[0].Handle)
	}
	raw, err := b.Tensor(ObjectGraphKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: captured variables need the checkpoint's object graph: %w", ErrFormat, m.File, err)
	}
	if raw.DType() != tfops.String || raw.NumElements() != 1 {
		return nil, fmt.Errorf("%w: %s: checkpoint key %s is %v%v, want a string scalar", ErrFormat, b.Prefix(), ObjectGraphKey, raw.DType(), raw.Shape())
	}
	var tog pb.TrackableObjectGraph
	if err := proto.Unmarshal([]byte(raw.Strings()[0]), &tog); err != nil {
		return nil, fmt.Errorf("%w: %s: decoding %s: %w", ErrFormat, b.Prefix(), ObjectGraphKey, err)
	}
	for i := range out {
		c := &out[i]
		if c.Object < 0 || int(c.Object) >= len(tog.GetNodes()) {
			return nil, fmt.Errorf("%w: %s: %s captures object %d, the checkpoint's object graph has %d nodes",
				ErrFormat, m.File, c.Function, c.Object, len(tog.GetNodes()))
		}
		for _, a := range tog.GetNodes()[c.Object].GetAttributes() {
			if a.GetName() == "VARIABLE_VALUE" {
				c.Key = a.GetCheckpointKey()
			}
		}
		if c.Key == "" {
			return nil, fmt.Errorf("%w: %s: variable %q (object %d, captured by %s) has no VARIABLE_VALUE in the checkpoint's object graph",
				ErrFormat, m.File, c.Handle, c.Object, c.Function)
		}
		e, err := b.Entry(c.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: variable %q (captured by %s): %w", ErrFormat, m.File, c.Handle, c.Function, err)
		}
		c.DType = tfops.DType(e.GetDtype())
		if want := byName[c.Handle].GetAttr()["dtype"].GetType(); want != 0 && tfops.DType(want) != c.DType {
			return nil, fmt.Errorf("%w: %s: variable %q is %v, its checkpoint entry %q is %v",
				ErrFormat, m.File, c.Handle, tfops.DType(want), c.Key, c.DType)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Handle < out[j].Handle })
	return out, nil
}

// CaptureRestoreGraph returns a copy of g (a SavedModel's graph, possibly
// rewritten) with ops that restore vars from the bundle at prefix (a
// RestoreV2 whose file prefix is a constant, one AssignVariableOp per
// variable) and the NoOp CaptureRestoreOp that runs them all; with no vars
// it returns g itself. g is not modified.
func CaptureRestoreGraph(g *graphpb.GraphDef, vars []CapturedVariable, prefix string) (*graphpb.GraphDef, error) {
	if len(vars) == 0 {
		return g, nil
	}
	gd := proto.Clone(g).(*graphpb.GraphDef)
	abs, err := filepath.Abs(prefix)
	if err != nil {
		return nil, err
	}
	const ns = "tfseg_restore_captured/"
	for _, n := range gd.GetNode() {
		if len(n.GetName()) >= len(ns) && n.GetName()[:len(ns)] == ns {
			return nil, fmt.Errorf("%w: node %q is in the namespace tfseg uses to restore captured variables", ErrFormat, n.GetName())
		}
	}
	names := make([]string, len(vars))
	slices := make([]string, len(vars))
	dtypes := make([]tfops.DType, len(vars))
	for i, v := range vars {
		names[i], dtypes[i] = v.Key, v.DType
	}
	attrs := func(kv map[string]any) (map[string]*attrpb.AttrValue, error) {
		out := map[string]*attrpb.AttrValue{}
		for k, v := range kv {
			a, err := tfops.AttrValue(v)
			if err != nil {
				return nil, fmt.Errorf("%w: attr %s: %w", ErrExport, k, err)
			}
			out[k] = a
		}
		return out, nil
	}
	var nodes []*nodepb.NodeDef
	add := func(name, op string, in []string, kv map[string]any) error {
		a, err := attrs(kv)
		if err != nil {
			return err
		}
		nodes = append(nodes, &nodepb.NodeDef{Name: ns + name, Op: op, Input: in, Attr: a})
		return nil
	}
	strVec := func(s []string) *tfops.Tensor { return tfops.MustFromSlice(s, len(s)) }
	if err := add("prefix", "Const", nil, map[string]any{"dtype": tfops.String, "value": tfops.FromScalar(abs)}); err != nil {
		return nil, err
	}
	if err := add("tensor_names", "Const", nil, map[string]any{"dtype": tfops.String, "value": strVec(names)}); err != nil {
		return nil, err
	}
	if err := add("shape_and_slices", "Const", nil, map[string]any{"dtype": tfops.String, "value": strVec(slices)}); err != nil {
		return nil, err
	}
	if err := add("RestoreV2", "RestoreV2", []string{ns + "prefix", ns + "tensor_names", ns + "shape_and_slices"},
		map[string]any{"dtypes": dtypes}); err != nil {
		return nil, err
	}
	ctrl := make([]string, len(vars))
	for i, v := range vars {
		name := fmt.Sprintf("assign_%d", i)
		if err := add(name, "AssignVariableOp", []string{v.Handle, fmt.Sprintf("%sRestoreV2:%d", ns, i)},
			map[string]any{"dtype": v.DType}); err != nil {
			return nil, err
		}
		ctrl[i] = "^" + ns + name
	}
	if err := add("restore_all", "NoOp", ctrl, nil); err != nil {
		return nil, err
	}
	gd.Node = append(gd.Node, nodes...)
	return gd, nil
}
