package savedmodel

import (
	"fmt"
	"sort"
	"strings"

	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// Library describes the op registry of the TensorFlow library that will
// load a SavedModel: for each op it knows, the names of its attrs.
type Library map[string]map[string]bool

// saveOnlyOps are ops that a SavedModel's save path alone uses; a library
// that lacks them still computes every signature, restore and init op the
// same. Each is replaced by a NoOp without inputs.
var saveOnlyOps = map[string]string{
	// tensorflow/core/ops/resource_variable_ops.cc, REGISTER_OP("DisableCopyOnRead"),
	// added in TensorFlow 2.12: the traced save function (_traced_save) calls it
	// on each variable before SaveV2 so that reading it for the checkpoint does
	// not copy; it has no output and changes no value.
	"DisableCopyOnRead": "TensorFlow 2.12",
}

// inertAttrs are attrs newer TensorFlow writes that no kernel reads; a
// library whose OpDef lacks them rejects the NodeDef, so they are removed.
var inertAttrs = map[string]map[string]string{
	// tensorflow/core/ops/resource_variable_ops.cc, REGISTER_OP("VarHandleOp")
	// .Attr("debug_name: string = ''"), added in TensorFlow 2.15: a name for
	// debugging output; VarHandleOp's kernel (resource_variable_ops.cc) keys
	// the resource by container and shared_name only.
	"VarHandleOp": {"debug_name": "TensorFlow 2.15"},
}

// ForLibrary returns the SavedModel proto, with only the selected
// MetaGraphDef, rewritten so that a TensorFlow library with the op registry
// lib can load it, and a note for each kind of change. It changes only what
// cannot change what a signature computes:
//
//   - an op only the save path uses (DisableCopyOnRead, TensorFlow 2.12)
//     becomes a NoOp, after checking that no signature, restore op or init
//     op reaches it;
//   - an attr the library's OpDef lacks and no kernel reads (VarHandleOp's
//     debug_name, TensorFlow 2.15) is removed.
//
// Anything else the library does not know is an error wrapping
// ErrUnsupported that names it and the node: an op of the graph or of a
// function the graph calls (TensorFlow checks those at import), an attr of a
// known op in the graph or in a function that a signature or the loader
// calls (TensorFlow checks a function's attrs when it instantiates it, so
// functions nothing calls, such as training traces, are left as they are).
// When
// nothing needs changing, ForLibrary returns nil and no notes.
func (m *SavedModel) ForLibrary(lib Library) (*pb.SavedModel, []string, error) {
	mg := m.MetaGraph
	// Where the save-only ops are used, if a signature or the loader reaches them.
	// (Inputs are not cut here: one signature's input may be what another computes.)
	var roots []string
	for _, key := range m.SignatureKeys() {
		outs, _, err := m.SignatureRoots(key)
		if err != nil {
			return nil, nil, err
		}
		roots = append(roots, outs...)
	}
	reach := m.Reachable(append(roots, m.LoadRoots()...), nil, nil)
	for op := range saveOnlyOps {
		if where := reach.Ops[op]; len(where) > 0 && lib[op] == nil {
			return nil, nil, fmt.Errorf("%w: %s: op %s (%s) is used where a signature, the restore op or the init op runs it (%s); only its uses on the save path can be rewritten for a TensorFlow library without it",
				ErrUnsupported, m.File, op, saveOnlyOps[op], where[0])
		}
	}
	// TensorFlow checks that it knows the ops of the graph and of the
	// functions the graph calls (not of functions nothing calls, such as
	// the traces of training-only layers).
	var all []string
	for _, n := range mg.GetGraphDef().GetNode() {
		all = append(all, n.GetName())
	}
	imported := m.Reachable(all, nil, func(string) bool { return true })
	counts := map[string]int{}
	var firstErr error
	rewrite := func(n *nodepb.NodeDef, where string, opChecked, attrChecked bool) *nodepb.NodeDef {
		if firstErr != nil {
			return n
		}
		attrs, known := lib[n.GetOp()]
		if !known {
			if since, ok := saveOnlyOps[n.GetOp()]; ok {
				counts[fmt.Sprintf("replaced %s (%s, save path only) with NoOp", n.GetOp(), since)]++
				return &nodepb.NodeDef{Name: n.GetName(), Op: "NoOp", Device: n.GetDevice()}
			}
			if opChecked {
				firstErr = fmt.Errorf("%w: %s: %s: op %s is not in the TensorFlow library's op registry", ErrUnsupported, m.File, where, n.GetOp())
			}
			return n
		}
		var drop []string
		for name := range n.GetAttr() {
			if strings.HasPrefix(name, "_") || attrs[name] {
				continue
			}
			if since, ok := inertAttrs[n.GetOp()][name]; ok {
				drop = append(drop, name)
				counts[fmt.Sprintf("removed attr %s of %s (%s, read by no kernel)", name, n.GetOp(), since)]++
				continue
			}
			if attrChecked {
				firstErr = fmt.Errorf("%w: %s: %s: attr %q of op %s is not in the TensorFlow library's OpDef", ErrUnsupported, m.File, where, name, n.GetOp())
				return n
			}
		}
		if len(drop) == 0 {
			return n
		}
		c := proto.Clone(n).(*nodepb.NodeDef)
		for _, name := range drop {
			delete(c.Attr, name)
		}
		return c
	}
	out := proto.Clone(mg).(*pb.MetaGraphDef)
	gd := out.GetGraphDef()
	for i, n := range gd.GetNode() {
		gd.Node[i] = rewrite(n, fmt.Sprintf("node %q", n.GetName()), true, true)
	}
	for _, f := range gd.GetLibrary().GetFunction() {
		fname := f.GetSignature().GetName()
		for i, n := range f.GetNodeDef() {
			f.NodeDef[i] = rewrite(n, fmt.Sprintf("function %s node %q", fname, n.GetName()), imported.Functions[fname], reach.Functions[fname])
		}
	}
	if firstErr != nil {
		return nil, nil, firstErr
	}
	if len(counts) == 0 {
		return nil, nil, nil
	}
	var notes []string
	for what, n := range counts {
		notes = append(notes, fmt.Sprintf("%s: %d nodes", what, n))
	}
	sort.Strings(notes)
	return &pb.SavedModel{SavedModelSchemaVersion: m.Proto.GetSavedModelSchemaVersion(), MetaGraphs: []*pb.MetaGraphDef{out}}, notes, nil
}
