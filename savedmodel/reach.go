package savedmodel

import (
	"fmt"
	"sort"
	"strings"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	fpb "github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
)

// Reach is the part of a SavedModel's graph that running some root nodes
// needs: the graph nodes they depend on, every library function those
// nodes call (through any func-valued attr: PartitionedCall's f, If's
// branches, While's cond and body, ...), and within each function the
// nodes its results, control results and stateful nodes depend on.
type Reach struct {
	// Nodes are the graph nodes needed, by name.
	Nodes map[string]bool
	// Functions are the library functions called, by name.
	Functions map[string]bool
	// Ops maps each op type needed to the places that use it, sorted:
	// "node NAME" in the graph, "FUNCTION/NAME" in a function.
	Ops map[string][]string
}

// OpNames returns the op types in r, sorted.
func (r *Reach) OpNames() []string {
	out := make([]string, 0, len(r.Ops))
	for op := range r.Ops {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}

// Reachable computes what running roots (node or tensor names of the
// graph) needs when the tensors feeds are fed: a fed tensor cuts the graph
// there, as a session prunes it (a TF1 signature's input "x:0" is fed, so
// the ParseExample above it does not run). Inside a function, a node is needed when a result, a
// control result or a node for which stateful returns true depends on it
// (TensorFlow runs a function's stateful ops even when nothing reads them);
// stateful may be nil. Names that are not in the graph are ignored.
func (m *SavedModel) Reachable(roots, feeds []string, stateful func(op string) bool) *Reach {
	fed := map[string]bool{}
	for _, f := range feeds {
		fed[tensorKey(f)] = true
	}
	r := &Reach{Nodes: map[string]bool{}, Functions: map[string]bool{}, Ops: map[string][]string{}}
	gd := m.Graph()
	lib := map[string]*fpb.FunctionDef{}
	for _, f := range gd.GetLibrary().GetFunction() {
		lib[f.GetSignature().GetName()] = f
	}
	var funcs []string
	visit := func(n *nodepb.NodeDef, where string) {
		r.Ops[n.GetOp()] = append(r.Ops[n.GetOp()], where)
		for _, name := range calledFunctions(n) {
			if !r.Functions[name] {
				r.Functions[name] = true
				funcs = append(funcs, name)
			}
		}
	}
	byName := make(map[string]*nodepb.NodeDef, len(gd.GetNode()))
	for _, n := range gd.GetNode() {
		byName[n.GetName()] = n
	}
	stack := make([]string, 0, len(roots))
	for _, s := range roots {
		stack = append(stack, NodeName(s))
	}
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := byName[name]
		if n == nil || r.Nodes[name] {
			continue
		}
		r.Nodes[name] = true
		visit(n, "node "+name)
		for _, in := range n.GetInput() {
			if !fed[tensorKey(in)] {
				stack = append(stack, NodeName(in))
			}
		}
	}
	for len(funcs) > 0 {
		name := funcs[len(funcs)-1]
		funcs = funcs[:len(funcs)-1]
		fd := lib[name]
		if fd == nil {
			continue
		}
		body := make(map[string]*nodepb.NodeDef, len(fd.GetNodeDef()))
		for _, n := range fd.GetNodeDef() {
			body[n.GetName()] = n
		}
		var st []string
		for _, ref := range fd.GetRet() {
			st = append(st, ref)
		}
		for _, ref := range fd.GetControlRet() {
			st = append(st, ref)
		}
		for _, n := range fd.GetNodeDef() {
			if stateful != nil && stateful(n.GetOp()) {
				st = append(st, n.GetName())
			}
		}
		seen := map[string]bool{}
		for len(st) > 0 {
			ref := strings.TrimPrefix(st[len(st)-1], "^")
			st = st[:len(st)-1]
			node, _, _ := strings.Cut(ref, ":")
			n := body[node]
			if n == nil || seen[node] {
				continue // a function argument, or done
			}
			seen[node] = true
			visit(n, name+"/"+node)
			st = append(st, n.GetInput()...)
		}
	}
	for op := range r.Ops {
		sort.Strings(r.Ops[op])
	}
	return r
}

// tensorKey normalizes a graph tensor name: "x" and "x:0" are the same
// tensor; a control input "^x" is the node itself.
func tensorKey(s string) string {
	if strings.HasPrefix(s, "^") {
		return s
	}
	if strings.LastIndexByte(s, ':') < 0 {
		return s + ":0"
	}
	return s
}

// calledFunctions lists the functions a node's attrs name.
func calledFunctions(n *nodepb.NodeDef) []string {
	var out []string
	for _, a := range n.GetAttr() {
		out = append(out, attrFunctions(a)...)
	}
	return out
}

func attrFunctions(a *attrpb.AttrValue) []string {
	var out []string
	if f := a.GetFunc(); f != nil {
		out = append(out, f.GetName())
		for _, v := range f.GetAttr() {
			out = append(out, attrFunctions(v)...)
		}
	}
	for _, f := range a.GetList().GetFunc() {
		out = append(out, f.GetName())
	}
	return out
}

// SignatureRoots returns the graph tensors signature key computes (its
// outputs) and those it feeds (its inputs), or an error wrapping
// ErrNotFound.
func (m *SavedModel) SignatureRoots(key string) (outputs, inputs []string, err error) {
	s, err := m.Signature(key)
	if err != nil {
		return nil, nil, err
	}
	for _, k := range s.OutputKeys() {
		if t := s.Outputs[k].Name; t != "" {
			outputs = append(outputs, t)
		}
	}
	for _, k := range s.InputKeys() {
		if t := s.Inputs[k].Name; t != "" {
			inputs = append(inputs, t)
		}
	}
	return outputs, inputs, nil
}

// Reaches computes what loading (LoadRoots) and what each signature of keys
// reaches (SignatureRoots, inputs fed), with stateful as in Reachable: what
// a loader must check an engine runs before any input is read. An unknown
// key is an error wrapping ErrNotFound.
func (m *SavedModel) Reaches(keys []string, stateful func(op string) bool) (load *Reach, sigs map[string]*Reach, err error) {
	sigs = make(map[string]*Reach, len(keys))
	for _, key := range keys {
		outs, ins, err := m.SignatureRoots(key)
		if err != nil {
			return nil, nil, err
		}
		sigs[key] = m.Reachable(outs, ins, stateful)
	}
	return m.Reachable(m.LoadRoots(), nil, stateful), sigs, nil
}

// LoadRoots returns the nodes a loader runs to bring the model up: the
// SaverDef's restore op and the init op, those that exist.
func (m *SavedModel) LoadRoots() []string {
	var out []string
	if sd := m.SaverDef(); sd != nil && sd.GetRestoreOpName() != "" {
		out = append(out, sd.GetRestoreOpName())
	}
	if op := m.InitOp(); op != "" {
		out = append(out, op)
	}
	return out
}

// Missing lists, for each op of r that has returns false, the op and the
// first place that uses it ("Split (node split_35 in __inference_call_12)").
func (r *Reach) Missing(has func(op string) bool) []string {
	var out []string
	for _, op := range r.OpNames() {
		if !has(op) {
			out = append(out, fmt.Sprintf("%s (%s)", op, r.Ops[op][0]))
		}
	}
	return out
}
