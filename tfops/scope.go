package tfops

import (
	"errors"
	"fmt"
	"strings"

	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	fpb "github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	versionspb "github.com/wamuir/graft/tensorflow/core/framework/versions_go_proto"
)

// GraphProducerVersion is the GraphDef producer version tfops writes: that of
// TensorFlow 1.15 (TF_GRAPH_DEF_VERSION 134), the oldest runtime the project
// runs on; every later TensorFlow reads it.
const GraphProducerVersion = 134

// ErrScope marks an invalid use of a Scope (nil outputs, foreign graphs).
var ErrScope = errors.New("tfops: invalid graph construction")

// OutputInfo is the static type of one op output.
type OutputInfo struct {
	// DType is the output's element type.
	DType DType
	// Shape is the output's static shape (unknown dimensions -1).
	Shape Shape
}

// Operation is a node in a graph under construction.
type Operation struct {
	g       *graph
	name    string
	typ     string
	inputs  []string
	attrs   map[string]*attrpb.AttrValue
	outputs []OutputInfo
	device  string
}

// Name is the node's unique name.
func (o *Operation) Name() string {
	if o == nil {
		return ""
	}
	return o.name
}

// Type is the TensorFlow op type ("AddV2", ...).
func (o *Operation) Type() string {
	if o == nil {
		return ""
	}
	return o.typ
}

// NumOutputs is the number of outputs.
func (o *Operation) NumOutputs() int {
	if o == nil {
		return 0
	}
	return len(o.outputs)
}

// Output returns output i.
func (o *Operation) Output(i int) Output { return Output{Op: o, Index: i} }

// Attr returns the attr named name (nil when absent).
func (o *Operation) Attr(name string) *attrpb.AttrValue {
	if o == nil {
		return nil
	}
	return o.attrs[name]
}

// Output is one output of an Operation: a symbolic tensor.
type Output struct {
	// Op is the operation producing the tensor (nil: an invalid Output).
	Op *Operation
	// Index is the output's position among Op's outputs.
	Index int
}

// Valid reports whether o refers to an existing output.
func (o Output) Valid() bool { return o.Op != nil && o.Index >= 0 && o.Index < len(o.Op.outputs) }

// DType returns the static element type (Invalid for an invalid output).
func (o Output) DType() DType {
	if !o.Valid() {
		return Invalid
	}
	return o.Op.outputs[o.Index].DType
}

// Shape returns the static shape (unknown for an invalid output).
func (o Output) Shape() Shape {
	if !o.Valid() {
		return UnknownShape()
	}
	return o.Op.outputs[o.Index].Shape
}

// Name returns the tensor name "node:index", as feeds and fetches use it.
func (o Output) Name() string {
	if o.Op == nil {
		return ""
	}
	return fmt.Sprintf("%s:%d", o.Op.name, o.Index)
}

// inputName is the NodeDef input string: "node" for output 0, else "node:i".
func (o Output) inputName() string {
	if o.Index == 0 {
		return o.Op.name
	}
	return fmt.Sprintf("%s:%d", o.Op.name, o.Index)
}

type graph struct {
	ops     []*Operation
	names   map[string]bool
	library []*fpb.FunctionDef
	err     error
}

// Scope builds a graph. It carries a name prefix, control dependencies and a
// sticky error shared by every scope of the same graph: the first error
// makes every later op constructor a no-op returning an invalid Output, and
// Finalize reports it. Graph-building code therefore reads like the math and
// checks one error at the end.
type Scope struct {
	g       *graph
	prefix  string
	opName  string
	control []*Operation
	device  string
}

// NewScope starts a new, empty graph.
func NewScope() *Scope {
	return &Scope{g: &graph{names: map[string]bool{}}}
}

// Err returns the first error recorded for the graph, if any.
func (s *Scope) Err() error { return s.g.err }

// SetErr records err unless an error is already recorded.
func (s *Scope) SetErr(err error) {
	if s.g.err == nil && err != nil {
		s.g.err = err
	}
}

// Errorf records a formatted error wrapping base.
func (s *Scope) Errorf(base error, format string, args ...any) {
	s.SetErr(fmt.Errorf("%w: %s", base, fmt.Sprintf(format, args...)))
}

// SubScope returns a scope whose ops are named under prefix/ns.
func (s *Scope) SubScope(ns string) *Scope {
	c := *s
	c.opName = ""
	c.prefix = s.uniqueName(ns)
	s.g.names[c.prefix] = true
	return &c
}

// WithOpName returns a scope whose next op gets exactly this name (made
// unique with a suffix if taken).
func (s *Scope) WithOpName(name string) *Scope {
	c := *s
	c.opName = name
	return &c
}

// WithControlDependencies returns a scope whose ops run after ops.
func (s *Scope) WithControlDependencies(ops ...*Operation) *Scope {
	c := *s
	c.opName = ""
	c.control = append(append([]*Operation{}, s.control...), ops...)
	return &c
}

// WithDevice returns a scope that places its ops on device.
func (s *Scope) WithDevice(device string) *Scope {
	c := *s
	c.device = device
	return &c
}

func (s *Scope) uniqueName(base string) string {
	name := base
	if s.prefix != "" {
		name = s.prefix + "/" + base
	}
	if !s.g.names[name] {
		return name
	}
	for i := 1; ; i++ {
		n := fmt.Sprintf("%s_%d", name, i)
		if !s.g.names[n] {
			return n
		}
	}
}

// OpSpec describes a node to add with AddOp.
type OpSpec struct {
	// Type is the op type, as TensorFlow's op registry names it ("AddV2").
	Type string
	// Name is the node name inside the scope; defaults to Type.
	Name string
	// Inputs holds an Output per single input and a []Output per list input.
	Inputs []any
	// Attrs holds Go values accepted by AttrValue.
	Attrs map[string]any
	// Outputs gives the static dtype and shape of each output.
	Outputs []OutputInfo
	// ControlInputs run before this op.
	ControlInputs []*Operation
}

// AddOp adds a node. It returns nil (and records the error) when the scope
// already has an error, an input is invalid or belongs to another graph, or
// an attr cannot be encoded.
func (s *Scope) AddOp(spec OpSpec) *Operation {
	if s.g.err != nil {
		return nil
	}
	base := spec.Name
	if s.opName != "" {
		base = s.opName
	}
	if base == "" {
		base = spec.Type
	}
	op := &Operation{g: s.g, name: s.uniqueName(base), typ: spec.Type, outputs: spec.Outputs,
		attrs: map[string]*attrpb.AttrValue{}, device: s.device}
	addInput := func(i int, o Output) bool {
		if !o.Valid() {
			s.Errorf(ErrScope, "%s (%s): input %d is not a valid output", op.name, spec.Type, i)
			return false
		}
		if o.Op.g != s.g {
			s.Errorf(ErrScope, "%s (%s): input %d (%s) belongs to another graph", op.name, spec.Type, i, o.Name())
			return false
		}
		op.inputs = append(op.inputs, o.inputName())
		return true
	}
	for i, in := range spec.Inputs {
		switch v := in.(type) {
		case Output:
			if !addInput(i, v) {
				return nil
			}
		case []Output:
			for _, o := range v {
				if !addInput(i, o) {
					return nil
				}
			}
		default:
			s.Errorf(ErrScope, "%s (%s): input %d has Go type %T", op.name, spec.Type, i, in)
			return nil
		}
	}
	for _, c := range append(append([]*Operation{}, s.control...), spec.ControlInputs...) {
		if c == nil || c.g != s.g {
			s.Errorf(ErrScope, "%s (%s): invalid control input", op.name, spec.Type)
			return nil
		}
		op.inputs = append(op.inputs, "^"+c.name)
	}
	for k, v := range spec.Attrs {
		a, err := AttrValue(v)
		if err != nil {
			s.SetErr(fmt.Errorf("%s (%s): attr %s: %w", op.name, spec.Type, k, err))
			return nil
		}
		op.attrs[k] = a
	}
	s.g.names[op.name] = true
	s.g.ops = append(s.g.ops, op)
	return op
}

// AddFunction adds a FunctionDef to the graph's function library.
func (s *Scope) AddFunction(f *fpb.FunctionDef) {
	if s.g.err != nil {
		return
	}
	for _, g := range s.g.library {
		if g.GetSignature().GetName() == f.GetSignature().GetName() {
			s.Errorf(ErrScope, "function %q defined twice", f.GetSignature().GetName())
			return
		}
	}
	s.g.library = append(s.g.library, f)
}

// Operations returns the ops added so far, in order.
func (s *Scope) Operations() []*Operation { return append([]*Operation{}, s.g.ops...) }

// Finalize returns the GraphDef and the first error recorded while building.
// The scope may be finalized again after more ops are added.
func (s *Scope) Finalize() (*graphpb.GraphDef, error) {
	if s.g.err != nil {
		return nil, s.g.err
	}
	gd := &graphpb.GraphDef{Versions: &versionspb.VersionDef{Producer: GraphProducerVersion}}
	for _, op := range s.g.ops {
		gd.Node = append(gd.Node, &nodepb.NodeDef{
			Name: op.name, Op: op.typ, Input: append([]string{}, op.inputs...),
			Attr: op.attrs, Device: op.device,
		})
	}
	if len(s.g.library) > 0 {
		gd.Library = &fpb.FunctionDefLibrary{Function: s.g.library}
	}
	return gd, nil
}

// ParseTensorName splits "node:3" into ("node", 3); "node" is output 0.
// A leading "^" (control input) is reported by ctrl.
func ParseTensorName(name string) (node string, index int, ctrl bool, err error) {
	if strings.HasPrefix(name, "^") {
		return name[1:], -1, true, nil
	}
	i := strings.LastIndexByte(name, ':')
	if i < 0 {
		return name, 0, false, nil
	}
	idx := 0
	for _, c := range name[i+1:] {
		if c < '0' || c > '9' || idx > 1<<20 {
			return name, 0, false, nil // a colon inside the name, no index
		}
		idx = idx*10 + int(c-'0')
	}
	if i+1 == len(name) {
		return "", 0, false, fmt.Errorf("%w: tensor name %q", ErrArg, name)
	}
	return name[:i], idx, false, nil
}
