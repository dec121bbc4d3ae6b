package eval

import (
	"fmt"
	"strconv"
	"strings"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	fpb "github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	opdefpb "github.com/wamuir/graft/tensorflow/core/framework/op_def_go_proto"
	shapepb "github.com/wamuir/graft/tensorflow/core/framework/tensor_shape_go_proto"
	typespb "github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"
	"google.golang.org/protobuf/proto"
)

// Logits says where a model's pre-activation tensor is.
type Logits struct {
	// Tensor is the graph tensor ("node:index") to fetch for the logits.
	Tensor string
	// Activation is the final op the logits feed: "Sigmoid" or "Softmax".
	Activation string
	// Path lists the nodes followed from the output to the activation,
	// function bodies included ("StatefulPartitionedCall -> ... -> activation_12/Softmax").
	Path []string
}

// FindLogits looks for the tensor before a final Sigmoid or Softmax of
// output (a tensor name of g), as Keras does in graph mode when it computes
// a cross-entropy from a model's output (it takes the activation's input as
// logits and skips the probability clipping). It follows Identity and
// Snapshot ops and descends into the functions that PartitionedCall and
// StatefulPartitionedCall nodes call (TF2 and Keras SavedModels put the
// whole model in nested functions).
//
// When the activation sits inside a function, the logits are not a graph
// tensor yet: FindLogits returns a copy of g in which each function on the
// path has a renamed clone with one more output, the logits, and each call
// on the path calls that clone and lists the extra output in Tout. g is
// never modified. ok is false when output does not end in a Sigmoid or
// Softmax (the returned graph is then g itself).
func FindLogits(g *graphpb.GraphDef, output string) (rewired *graphpb.GraphDef, l Logits, ok bool, err error) {
	c := proto.Clone(g).(*graphpb.GraphDef)
	r := &rewirer{g: c, nodes: map[string]*nodepb.NodeDef{}, funcs: map[string]*fpb.FunctionDef{}}
	for _, n := range c.GetNode() {
		r.nodes[n.GetName()] = n
	}
	for _, f := range c.GetLibrary().GetFunction() {
		r.funcs[f.GetSignature().GetName()] = f
	}
	tensor, act, found, err := r.top(output, 0)
	if err != nil {
		return g, Logits{}, false, fmt.Errorf("eval: finding the logits of %s: %w", output, err)
	}
	if !found {
		return g, Logits{}, false, nil
	}
	if !r.changed {
		c = g
	}
	return c, Logits{Tensor: tensor, Activation: act, Path: r.path}, true, nil
}

type rewirer struct {
	g       *graphpb.GraphDef
	nodes   map[string]*nodepb.NodeDef
	funcs   map[string]*fpb.FunctionDef
	path    []string
	changed bool
}

const maxDepth = 64

func isActivation(op string) bool { return op == "Sigmoid" || op == "Softmax" }

func isCall(op string) bool { return op == "PartitionedCall" || op == "StatefulPartitionedCall" }

// dataInputs drops control inputs.
func dataInputs(n *nodepb.NodeDef) []string {
	var in []string
	for _, s := range n.GetInput() {
		if !strings.HasPrefix(s, "^") {
			in = append(in, s)
		}
	}
	return in
}

// top resolves a graph tensor "node[:index]".
func (r *rewirer) top(ref string, depth int) (tensor, act string, found bool, err error) {
	if depth > maxDepth {
		return "", "", false, fmt.Errorf("more than %d ops deep", maxDepth)
	}
	name, idx := ref, 0
	if i := strings.LastIndexByte(ref, ':'); i >= 0 {
		name = ref[:i]
		if idx, err = strconv.Atoi(ref[i+1:]); err != nil {
			return "", "", false, fmt.Errorf("bad tensor name %q", ref)
		}
	}
	n, ok := r.nodes[name]
	if !ok {
		return "", "", false, fmt.Errorf("no node %q", name)
	}
	r.path = append(r.path, name)
	in := dataInputs(n)
	switch {
	case (n.GetOp() == "Identity" || n.GetOp() == "Snapshot") && len(in) == 1:
		return r.top(in[0], depth+1)
	case isActivation(n.GetOp()) && len(in) == 1:
		return in[0], n.GetOp(), true, nil
	case isCall(n.GetOp()):
		res, err := r.call(n, idx, depth+1)
		if err != nil || !res.found {
			return "", "", false, err
		}
		if res.arg >= 0 {
			return in[res.arg], res.act, true, nil
		}
		return fmt.Sprintf("%s:%d", name, res.extra), res.act, true, nil
	}
	return "", "", false, nil
}

// callResult is where a call's output idx leads: to the callee's input arg
// (arg >= 0) or to a new output of the (rewired) call, at flat index extra.
type callResult struct {
	found bool
	act   string
	dtype typespb.DataType
	arg   int
	extra int
}

// call resolves output idx of call node n, rewiring n when the logits are
// inside the callee.
func (r *rewirer) call(n *nodepb.NodeDef, idx, depth int) (callResult, error) {
	fname := n.GetAttr()["f"].GetFunc().GetName()
	f, ok := r.funcs[fname]
	if !ok {
		return callResult{}, fmt.Errorf("node %s calls unknown function %q", n.GetName(), fname)
	}
	outs := f.GetSignature().GetOutputArg()
	if idx < 0 || idx >= len(outs) {
		return callResult{}, fmt.Errorf("node %s: function %s has no output %d", n.GetName(), fname, idx)
	}
	ret, ok := f.GetRet()[outs[idx].GetName()]
	if !ok {
		return callResult{}, fmt.Errorf("function %s returns nothing for output %q", fname, outs[idx].GetName())
	}
	ref, act, dtype, found, err := r.inFunc(f, ret, depth)
	if err != nil || !found {
		return callResult{}, err
	}
	for i, a := range f.GetSignature().GetInputArg() {
		if a.GetName() == ref {
			return callResult{found: true, act: act, dtype: dtype, arg: i}, nil
		}
	}
	// Clone the callee with the logits as an extra output; call the clone.
	clone := proto.Clone(f).(*fpb.FunctionDef)
	clone.Signature.Name = r.uniqueFunc(fname + "_tfseg_logits")
	clone.Signature.OutputArg = append(clone.Signature.OutputArg, &opdefpb.OpDef_ArgDef{Name: "tfseg_logits", Type: dtype})
	if clone.Ret == nil {
		clone.Ret = map[string]string{}
	}
	clone.Ret["tfseg_logits"] = ref
	if r.g.Library == nil {
		r.g.Library = &fpb.FunctionDefLibrary{}
	}
	r.g.Library.Function = append(r.g.Library.Function, clone)
	r.funcs[clone.Signature.Name] = clone
	n.Attr["f"] = &attrpb.AttrValue{Value: &attrpb.AttrValue_Func{Func: &attrpb.NameAttrList{Name: clone.Signature.Name, Attr: n.GetAttr()["f"].GetFunc().GetAttr()}}}
	tout := n.GetAttr()["Tout"].GetList()
	if tout == nil {
		return callResult{}, fmt.Errorf("node %s has no Tout attr", n.GetName())
	}
	tout.Type = append(tout.Type, dtype)
	if sh := n.GetAttr()["_output_shapes"].GetList(); sh != nil {
		sh.Shape = append(sh.Shape, &shapepb.TensorShapeProto{UnknownRank: true})
	}
	r.changed = true
	return callResult{found: true, act: act, dtype: dtype, arg: -1, extra: len(tout.Type) - 1}, nil
}

func (r *rewirer) uniqueFunc(base string) string {
	name := base
	for i := 1; r.funcs[name] != nil; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	return name
}

// inFunc resolves a reference inside function f's body: an input arg name
// or "node:out_arg:index". It returns the logits reference in f's body (or
// an input arg name), the activation and its dtype.
func (r *rewirer) inFunc(f *fpb.FunctionDef, ref string, depth int) (logits, act string, dtype typespb.DataType, found bool, err error) {
	if depth > maxDepth {
		return "", "", 0, false, fmt.Errorf("more than %d ops deep", maxDepth)
	}
	parts := strings.Split(ref, ":")
	if len(parts) == 1 {
		return "", "", 0, false, nil // an input arg: the activation is not inside f
	}
	var n *nodepb.NodeDef
	for _, m := range f.GetNodeDef() {
		if m.GetName() == parts[0] {
			n = m
			break
		}
	}
	if n == nil {
		return "", "", 0, false, fmt.Errorf("function %s: no node %q", f.GetSignature().GetName(), parts[0])
	}
	r.path = append(r.path, f.GetSignature().GetName()+"/"+n.GetName())
	in := dataInputs(n)
	switch {
	case (n.GetOp() == "Identity" || n.GetOp() == "Snapshot") && len(in) == 1:
		return r.inFunc(f, in[0], depth+1)
	case isActivation(n.GetOp()) && len(in) == 1:
		return in[0], n.GetOp(), n.GetAttr()["T"].GetType(), true, nil
	case isCall(n.GetOp()) && len(parts) == 3:
		idx, err := strconv.Atoi(parts[2])
		if err != nil {
			return "", "", 0, false, fmt.Errorf("function %s: bad reference %q", f.GetSignature().GetName(), ref)
		}
		res, err := r.call(n, idx, depth+1)
		if err != nil || !res.found {
			return "", "", 0, false, err
		}
		if res.arg >= 0 {
			return in[res.arg], res.act, res.dtype, true, nil
		}
		return fmt.Sprintf("%s:output:%d", n.GetName(), res.extra), res.act, res.dtype, true, nil
	}
	return "", "", 0, false, nil
}
