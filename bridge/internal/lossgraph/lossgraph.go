// Package lossgraph builds the GraphDef both TensorFlow bridges import: a
// loss or metric from the graphs registry on placeholders typed and shaped
// like the caller's tensors, with node names relative to the place the
// bridge puts them (the caller's import prefix or op.Scope).
//
// Typing the placeholders after the caller's tensors (rather than the
// float32, unknown-shape placeholders of graphs.Build) lets the graphs
// package check dtypes and static shapes up front, with messages that the
// bridges complete with the caller's tensor names, and lets float64
// predictions keep float64 arithmetic, as graphs.BuildInto does.
package lossgraph

import (
	"fmt"
	"sort"
	"strings"

	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"

	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// InputScope is the name scope of the placeholders standing for the
// caller's tensors ("inputs/y_true"). The bridges map them onto the
// caller's tensors and never run them.
const InputScope = "inputs"

// Tensor describes one of the caller's tensors.
type Tensor struct {
	// Name is the caller's tensor name ("logits:0"), for messages.
	Name string
	// DType is its element type.
	DType tfops.DType
	// Shape is its static shape (unknown rank or dims where not known).
	Shape tfops.Shape
}

// ShapeOf converts a TensorFlow binding's static shape (rank -1: unknown,
// dim(i) -1: unknown size) to a tfops.Shape.
func ShapeOf(rank int, dim func(i int) int64) tfops.Shape {
	if rank < 0 {
		return tfops.UnknownShape()
	}
	dims := make([]int64, rank)
	for i := range dims {
		dims[i] = dim(i)
	}
	return tfops.MakeShape(dims...)
}

// Inputs gathers a bridge's arguments by input name (yTrue as "y_true",
// yPred as "y_pred", extra as given) and describes each with describe,
// which checks a binding's tensor and returns its name, dtype and shape.
func Inputs[O any](name string, yTrue, yPred O, extra map[string]O, describe func(input string, o O) (Tensor, error)) (map[string]O, map[string]Tensor, error) {
	tensors := map[string]O{graphs.InputTrue: yTrue, graphs.InputPred: yPred}
	for k, o := range extra {
		if k == graphs.InputTrue || k == graphs.InputPred {
			return nil, nil, fmt.Errorf("%w: %s: pass %s as its own argument, not in extra", graphs.ErrInput, name, k)
		}
		tensors[k] = o
	}
	inputs := make(map[string]Tensor, len(tensors))
	for k, o := range tensors {
		t, err := describe(k, o)
		if err != nil {
			return nil, nil, err
		}
		inputs[k] = t
	}
	return tensors, inputs, nil
}

// Graph is a loss or metric ready to be imported.
type Graph struct {
	// Def holds the placeholders (InputScope/<input>), the loss ops (named
	// relative to the import prefix) and an Identity named Output.
	Def *graphpb.GraphDef
	// Placeholders maps each input ("y_true") to its placeholder node.
	Placeholders map[string]string
	// Output is the node name of the result ("loss", or "metric").
	Output string
	// Spec is the loss or metric built.
	Spec *graphs.Spec
}

// Build makes the graph of the loss or metric name configured by cfg on
// placeholders shaped like inputs (keys "y_true", "y_pred" and the spec's
// other inputs: "weights", "sample_weight"). Errors wrap graphs' sentinels
// (graphs.ErrUnknown, graphs.ErrParam, graphs.ErrInput) and name the loss
// and the caller's tensors.
func Build(name string, cfg graphs.Config, inputs map[string]Tensor) (*Graph, error) {
	spec, err := graphs.Lookup(name)
	if err != nil {
		return nil, err
	}
	if _, err := spec.Parse(cfg); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(inputs))
	for k := range inputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := checkInput(spec, k, inputs[k]); err != nil {
			return nil, err
		}
	}
	for _, k := range []string{graphs.InputTrue, graphs.InputPred} {
		if _, ok := inputs[k]; !ok {
			return nil, fmt.Errorf("%w: %s: no %s tensor given", graphs.ErrInput, name, k)
		}
	}

	root := tfops.NewScope()
	in := root.SubScope(InputScope)
	phs := map[string]tfops.Output{}
	g := &Graph{Placeholders: map[string]string{}, Spec: spec}
	for _, k := range keys {
		t := inputs[k]
		ph := tfops.Placeholder(in.WithOpName(k), t.DType, t.Shape)
		phs[k] = ph
		g.Placeholders[k] = ph.Op.Name()
	}
	extra := map[string]tfops.Output{}
	for k, o := range phs {
		if k != graphs.InputTrue && k != graphs.InputPred {
			extra[k] = o
		}
	}
	out, err := graphs.BuildInto(root, name, cfg, phs[graphs.InputTrue], phs[graphs.InputPred], extra)
	if err != nil {
		return nil, fmt.Errorf("%w (tensors: %s)", err, describe(keys, inputs))
	}
	g.Output = "loss"
	if spec.Kind == graphs.KindMetric {
		g.Output = "metric"
	}
	tfops.Identity(root.WithOpName(g.Output), out)
	def, err := root.Finalize()
	if err != nil {
		return nil, fmt.Errorf("graphs: build %s: %w", name, err)
	}
	if err := flatten(def, name); err != nil {
		return nil, err
	}
	g.Def = def
	return g, nil
}

// checkInput checks one caller tensor against the spec: a known input, a
// float y_pred, a numeric (or bool) label or weight tensor.
func checkInput(spec *graphs.Spec, k string, t Tensor) error {
	known := false
	for _, in := range spec.Inputs {
		known = known || in == k
	}
	if !known {
		return fmt.Errorf("%w: %s takes no input %q; its inputs: %s", graphs.ErrInput, spec.Name, k, strings.Join(spec.Inputs, ", "))
	}
	d := t.DType.Base()
	switch {
	case k == graphs.InputPred && d != tfops.Float && d != tfops.Double:
		return fmt.Errorf("%w: %s: y_pred (tensor %q) is %v; want float32 or float64", graphs.ErrInput, spec.Name, t.Name, d)
	case !d.IsFloat() && !d.IsInteger() && d != tfops.Bool:
		return fmt.Errorf("%w: %s: %s (tensor %q) is %v; want a float, integer or bool tensor", graphs.ErrInput, spec.Name, k, t.Name, d)
	}
	return nil
}

// describe lists the inputs as "y_pred=logits:0 float32 [2,8,8,1]".
func describe(keys []string, inputs map[string]Tensor) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		t := inputs[k]
		parts[i] = fmt.Sprintf("%s=%s %v %v", k, t.Name, t.DType.Base(), t.Shape)
	}
	return strings.Join(parts, ", ")
}

// flatten strips the "<name>/" prefix graphs.BuildInto gives the loss ops,
// so that imported under prefix P they read P/Log1p, P/loss rather than
// P/focal/Log1p. It leaves def unchanged if stripping would make two names
// collide.
func flatten(def *graphpb.GraphDef, name string) error {
	pre := name + "/"
	rename := map[string]string{}
	seen := map[string]bool{}
	for _, n := range def.GetNode() {
		seen[n.Name] = true
	}
	for _, n := range def.GetNode() {
		if !strings.HasPrefix(n.Name, pre) {
			continue
		}
		short := strings.TrimPrefix(n.Name, pre)
		if seen[short] {
			return nil
		}
		rename[n.Name] = short
	}
	for _, n := range def.GetNode() {
		if s, ok := rename[n.Name]; ok {
			n.Name = s
		}
		for i, in := range n.Input {
			node, idx, ctrl, err := tfops.ParseTensorName(in)
			if err != nil {
				return fmt.Errorf("graphs: build %s: node %s: %w", name, n.Name, err)
			}
			s, ok := rename[node]
			if !ok {
				continue
			}
			switch {
			case ctrl:
				n.Input[i] = "^" + s
			case idx == 0 && !strings.Contains(in, ":"):
				n.Input[i] = s
			default:
				n.Input[i] = fmt.Sprintf("%s:%d", s, idx)
			}
		}
	}
	return nil
}
