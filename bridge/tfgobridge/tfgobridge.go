//go:build tensorflow

package tfgobridge

import (
	"bytes"
	"errors"
	"fmt"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	"github.com/galeone/tensorflow/tensorflow/go/op"
	attrpb "github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	nodepb "github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	tensorpb "github.com/wamuir/graft/tensorflow/core/framework/tensor_go_proto"
	shapepb "github.com/wamuir/graft/tensorflow/core/framework/tensor_shape_go_proto"

	"github.com/tfseg/tfseg/bridge/internal/lossgraph"
	_ "github.com/tfseg/tfseg/bridge/tfgobridge/internal/protowarn" // graft's and galeone's protos in one binary: see the package doc
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// ErrImport is returned when an op of the loss cannot be added to the
// scope (TensorFlow rejects it, or the scope had already failed).
var ErrImport = errors.New("tfgobridge: import failed")

// ImportLoss adds the loss or metric name (a graphs registry name,
// configured by cfg) to scope, on the caller's tensors: yTrue and yPred, and
// in extra the spec's other inputs ("weights" for distance_ce,
// "sample_weight" for the Keras losses). It returns the loss tensor, a
// scalar (or per-image vector, as the loss's reduction says) of yPred's
// dtype, named "<name>/loss" ("<name>/metric" for a metric) under the
// scope's namespace; the sub-scope is made unique, so a second loss of the
// same name lands under "<name>_1".
//
// Tensors must belong to scope's graph. Errors wrap graphs.ErrUnknown,
// graphs.ErrParam or graphs.ErrInput (an input missing, of a wrong dtype, or
// of a shape the loss cannot take: the message names the loss and the
// caller's tensors; nothing was added to the scope), or ErrImport (the scope
// has failed: its Err says why).
func ImportLoss(scope *op.Scope, name string, cfg graphs.Config, yTrue, yPred tf.Output, extra map[string]tf.Output) (tf.Output, error) {
	if scope == nil {
		return tf.Output{}, fmt.Errorf("%w: %s: nil scope", graphs.ErrInput, name)
	}
	if err := scope.Err(); err != nil {
		return tf.Output{}, fmt.Errorf("%w: %s: the scope has already failed: %w", ErrImport, name, err)
	}
	tensors, inputs, err := lossgraph.Inputs(name, yTrue, yPred, extra, func(k string, o tf.Output) (lossgraph.Tensor, error) {
		return describe(name, k, o)
	})
	if err != nil {
		return tf.Output{}, err
	}
	lg, err := lossgraph.Build(name, cfg, inputs)
	if err != nil {
		return tf.Output{}, err
	}
	// The ops in the order Build made them (each after its inputs),
	// skipping the placeholders, whose consumers read the caller's tensors.
	outs := map[string]*tf.Operation{}
	mapped := map[string]tf.Output{}
	for k, ph := range lg.Placeholders {
		mapped[ph] = tensors[k]
	}
	sub := scope.SubScope(name)
	for _, n := range lg.Def.GetNode() {
		if _, ok := mapped[n.Name]; ok {
			continue
		}
		spec, err := opSpec(n, outs, mapped)
		if err != nil {
			return tf.Output{}, fmt.Errorf("%w: %s: %w", ErrImport, name, err)
		}
		o := sub.AddOperation(spec)
		if o == nil {
			return tf.Output{}, fmt.Errorf("%w: %s: node %s (%s): %w", ErrImport, name, n.Name, n.Op, sub.Err())
		}
		outs[n.Name] = o
	}
	res, ok := outs[lg.Output]
	if !ok {
		return tf.Output{}, fmt.Errorf("%w: %s: the loss graph has no node %s", ErrImport, name, lg.Output)
	}
	return res.Output(0), nil
}

// describe checks o and returns its name, dtype and static shape for the
// loss graph's placeholder.
func describe(name, input string, o tf.Output) (lossgraph.Tensor, error) {
	if o.Op == nil {
		return lossgraph.Tensor{}, fmt.Errorf("%w: %s: %s is not a tensor (tf.Output with a nil Op)", graphs.ErrInput, name, input)
	}
	tname := fmt.Sprintf("%s:%d", o.Op.Name(), o.Index)
	if o.Index < 0 || o.Index >= o.Op.NumOutputs() {
		return lossgraph.Tensor{}, fmt.Errorf("%w: %s: %s (tensor %q): op %s has %d outputs", graphs.ErrInput, name, input, tname, o.Op.Type(), o.Op.NumOutputs())
	}
	sh := o.Shape()
	return lossgraph.Tensor{Name: tname, DType: tfops.DType(o.DataType()), Shape: lossgraph.ShapeOf(sh.NumDimensions(), sh.Size)}, nil
}

// listInputs says, for the ops with a list input, how many single inputs
// come before the list and which attr holds its length. The GraphDef
// flattens list inputs; tf.OpSpec wants them as one tf.OutputList.
var listInputs = map[string]struct {
	before int
	attr   string
}{
	"Pack":     {0, "N"},
	"ConcatV2": {0, "N"},
	"Concat":   {1, "N"},
	"AddN":     {0, "N"},
	"ShapeN":   {0, "N"},
}

// opSpec turns node n of the loss graph into the tf.OpSpec that adds it:
// inputs resolved to the ops added so far (or to the caller's tensors for
// the placeholders in mapped), list inputs grouped, attrs converted.
func opSpec(n *nodepb.NodeDef, outs map[string]*tf.Operation, mapped map[string]tf.Output) (tf.OpSpec, error) {
	spec := tf.OpSpec{Type: n.Op, Name: n.Name, Attrs: map[string]interface{}{}}
	var flat []tf.Output
	for _, in := range n.Input {
		node, idx, ctrl, err := tfops.ParseTensorName(in)
		if err != nil {
			return spec, fmt.Errorf("node %s: %w", n.Name, err)
		}
		if ctrl {
			o, ok := outs[node]
			if !ok {
				return spec, fmt.Errorf("node %s: control input %s is not added yet", n.Name, node)
			}
			spec.ControlDependencies = append(spec.ControlDependencies, o)
			continue
		}
		if m, ok := mapped[node]; ok {
			flat = append(flat, m)
			continue
		}
		o, ok := outs[node]
		if !ok {
			return spec, fmt.Errorf("node %s: input %s is not added yet", n.Name, in)
		}
		flat = append(flat, o.Output(idx))
	}
	for k, a := range n.Attr {
		v, err := attrValue(a)
		if err != nil {
			return spec, fmt.Errorf("node %s (%s): attr %s: %w", n.Name, n.Op, k, err)
		}
		spec.Attrs[k] = v
	}
	li, isList := listInputs[n.Op]
	if !isList {
		if _, hasN := n.Attr["N"]; hasN {
			return spec, fmt.Errorf("node %s: op %s takes a list input the bridge does not know how to group", n.Name, n.Op)
		}
		for _, o := range flat {
			spec.Input = append(spec.Input, o)
		}
		return spec, nil
	}
	size := int(n.Attr[li.attr].GetI())
	if li.before+size > len(flat) {
		return spec, fmt.Errorf("node %s (%s): %s = %d but %d inputs", n.Name, n.Op, li.attr, size, len(flat))
	}
	for _, o := range flat[:li.before] {
		spec.Input = append(spec.Input, o)
	}
	spec.Input = append(spec.Input, tf.OutputList(flat[li.before:li.before+size]))
	for _, o := range flat[li.before+size:] {
		spec.Input = append(spec.Input, o)
	}
	return spec, nil
}

// attrValue converts an AttrValue to the Go value tf.OpSpec.Attrs takes.
func attrValue(a *attrpb.AttrValue) (interface{}, error) {
	switch v := a.GetValue().(type) {
	case *attrpb.AttrValue_S:
		return string(v.S), nil
	case *attrpb.AttrValue_I:
		return v.I, nil
	case *attrpb.AttrValue_F:
		return v.F, nil
	case *attrpb.AttrValue_B:
		return v.B, nil
	case *attrpb.AttrValue_Type:
		return tf.DataType(v.Type), nil
	case *attrpb.AttrValue_Shape:
		return shapeValue(v.Shape), nil
	case *attrpb.AttrValue_Tensor:
		return tensorValue(v.Tensor)
	case *attrpb.AttrValue_List:
		return listValue(v.List)
	}
	return nil, fmt.Errorf("unsupported attr value %T", a.GetValue())
}

// listValue converts a list attr; an empty list becomes an empty []int64,
// which TensorFlow accepts for a list of any type.
func listValue(l *attrpb.AttrValue_ListValue) (interface{}, error) {
	switch {
	case len(l.GetS()) > 0:
		s := make([]string, len(l.S))
		for i, b := range l.S {
			s[i] = string(b)
		}
		return s, nil
	case len(l.GetF()) > 0:
		return append([]float32{}, l.F...), nil
	case len(l.GetB()) > 0:
		return append([]bool{}, l.B...), nil
	case len(l.GetType()) > 0:
		ts := make([]tf.DataType, len(l.Type))
		for i, t := range l.Type {
			ts[i] = tf.DataType(t)
		}
		return ts, nil
	case len(l.GetShape()) > 0:
		ss := make([]tf.Shape, len(l.Shape))
		for i, s := range l.Shape {
			ss[i] = shapeValue(s)
		}
		return ss, nil
	case len(l.GetTensor()) > 0:
		ts := make([]*tf.Tensor, len(l.Tensor))
		for i, p := range l.Tensor {
			t, err := tensorValue(p)
			if err != nil {
				return nil, err
			}
			ts[i] = t
		}
		return ts, nil
	case len(l.GetFunc()) > 0:
		return nil, fmt.Errorf("function lists are not supported")
	}
	return append([]int64{}, l.GetI()...), nil
}

func shapeValue(s *shapepb.TensorShapeProto) tf.Shape {
	if s.GetUnknownRank() {
		return tf.Shape{}
	}
	dims := make([]int64, len(s.GetDim()))
	for i, d := range s.GetDim() {
		dims[i] = d.GetSize()
	}
	return tf.MakeShape(dims...)
}

// tensorValue decodes a TensorProto into a TensorFlow tensor (numeric and
// bool dtypes; tfseg's loss graphs hold no string constants).
func tensorValue(p *tensorpb.TensorProto) (*tf.Tensor, error) {
	t, err := tfops.FromProto(p)
	if err != nil {
		return nil, err
	}
	if t.DType() == tfops.String {
		return nil, fmt.Errorf("string constants are not supported")
	}
	dims := make([]int64, t.Rank())
	for i, d := range t.Shape() {
		dims[i] = int64(d)
	}
	return tf.ReadTensor(tf.DataType(t.DType()), dims, bytes.NewReader(tfops.EncodeContent(t)))
}
