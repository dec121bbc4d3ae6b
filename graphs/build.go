package graphs

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	graphpb "github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"

	"github.com/tfseg/tfseg/tfops"
)

// Input names of the loss graphs.
const (
	// InputTrue is the labels: a mask, soft labels, one-hot or class indices.
	InputTrue = "y_true"
	// InputPred is the prediction: probabilities or logits.
	InputPred = "y_pred"
	// InputWeights is distance_ce's per-pixel distance map.
	InputWeights = "weights"
	// InputSampleWeight is the Keras losses' optional sample_weight.
	InputSampleWeight = "sample_weight"
)

// Graph is a loss or metric as a standalone TensorFlow graph.
type Graph struct {
	// GraphDef holds the float32 placeholders named after the inputs, the
	// loss ops and an Identity named "loss" (a metric: "metric").
	GraphDef *graphpb.GraphDef
	// Inputs maps each input name to its tensor ("y_true" -> "y_true:0").
	Inputs map[string]string
	// Optional lists inputs that have a default and need not be fed
	// (sample_weight: ones, which is Keras' "no sample weight").
	Optional []string
	// InputShapes are the placeholders' static shapes (-1: any size).
	InputShapes map[string]tfops.Shape
	// Output is the result tensor, "loss:0" or "metric:0".
	Output string
	// OutputShape is the result's static shape as far as the input shapes
	// determine it (-1: a dimension known only when run).
	OutputShape tfops.Shape
	// Spec is the loss or metric built.
	Spec *Spec
	// Values are the parameters used, defaults filled in.
	Values Values
}

// outputName is the name of the graph's result node.
func (s *Spec) outputName() string {
	if s.Kind == KindMetric {
		return "metric"
	}
	return "loss"
}

// Build makes a standalone graph of the loss or metric name configured by
// cfg. Its float32 placeholders have unknown dimensions, so the graph (and
// a SavedModel exported from it) accepts any batch and image size: rank 4
// (NHWC) for y_true, y_pred and weights, rank 3 (NHW) for class-index
// labels, and sample_weight of the rank of the unreduced loss values
// (rank 3, e.g. (B, 1, 1), for the Keras losses' default axis=-1).
func Build(name string, cfg Config) (*Graph, error) {
	spec, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	v, err := spec.Parse(cfg)
	if err != nil {
		return nil, err
	}
	shapes := map[string]tfops.Shape{}
	for _, in := range spec.Inputs {
		if in == InputSampleWeight {
			continue
		}
		shapes[in] = tfops.UnknownShapeOfRank(4)
	}
	if spec.sparseLabels(v) {
		shapes[InputTrue] = tfops.UnknownShapeOfRank(3)
	}
	dts := map[string]tfops.DType{}
	for in := range shapes {
		dts[in] = tfops.Float
	}
	return build(spec, v, dts, shapes, true)
}

// build makes the graph with placeholders of the given dtypes and shapes. With
// defaultSW, sample_weight (when the spec has it and shapes does not) is a
// PlaceholderWithDefault of ones shaped like the loss values.
func build(spec *Spec, v Values, dts map[string]tfops.DType, shapes map[string]tfops.Shape, defaultSW bool) (*Graph, error) {
	root := tfops.NewScope()
	g := &Graph{Inputs: map[string]string{}, InputShapes: map[string]tfops.Shape{}, Spec: spec, Values: v}
	ins := map[string]tfops.Output{}
	for _, in := range spec.Inputs {
		sh, ok := shapes[in]
		if !ok {
			continue
		}
		ph := tfops.Placeholder(root.WithOpName(in), dts[in], sh)
		ins[in] = ph
		g.Inputs[in] = ph.Name()
		g.InputShapes[in] = sh
	}
	b := &builder{root: root, spec: spec, v: v, extra: map[string]tfops.Output{}}
	for k, o := range ins {
		if k != InputTrue && k != InputPred {
			b.extra[k] = o
		}
	}
	if defaultSW && spec.hasInput(InputSampleWeight) {
		b.defaultSW = func(ph tfops.Output) {
			g.Inputs[InputSampleWeight] = ph.Name()
			g.InputShapes[InputSampleWeight] = ph.Shape()
			g.Optional = append(g.Optional, InputSampleWeight)
		}
	}
	out, err := b.run(root, ins[InputTrue], ins[InputPred])
	if err != nil {
		return nil, err
	}
	res := tfops.Identity(root.WithOpName(spec.outputName()), out)
	gd, err := root.Finalize()
	if err != nil {
		return nil, fmt.Errorf("graphs: build %s: %w", spec.Name, err)
	}
	g.GraphDef = gd
	g.Output = res.Name()
	g.OutputShape = res.Shape()
	return g, nil
}

// BuildInto adds the loss or metric name, configured by cfg, to the graph
// of s, on the caller's tensors: yTrue and yPred, and in extra the other
// inputs the spec lists (weights; sample_weight, optional). Its ops go in a
// sub-scope named after the loss. The result is the loss tensor. When yPred
// is the output of a Sigmoid (Softmax) op and the spec has
// sigmoid_logits (softmax_logits) set, the op's input is used as logits, as
// Keras does in graph mode.
func BuildInto(s *tfops.Scope, name string, cfg Config, yTrue, yPred tfops.Output, extra map[string]tfops.Output) (tfops.Output, error) {
	spec, err := Lookup(name)
	if err != nil {
		return tfops.Output{}, err
	}
	v, err := spec.Parse(cfg)
	if err != nil {
		return tfops.Output{}, err
	}
	if err := s.Err(); err != nil {
		return tfops.Output{}, fmt.Errorf("graphs: %s: scope already failed: %w", name, err)
	}
	for k := range extra {
		if !spec.hasInput(k) || k == InputTrue || k == InputPred {
			return tfops.Output{}, fmt.Errorf("%w: %s takes no input %q; its inputs: %s", ErrInput, name, k, strings.Join(spec.Inputs, ", "))
		}
	}
	b := &builder{root: s, spec: spec, v: v, extra: extra}
	if b.extra == nil {
		b.extra = map[string]tfops.Output{}
	}
	return b.run(s, yTrue, yPred)
}

// InputSpec is the dtype and static shape of one input of a graph made
// by BuildFor.
type InputSpec struct {
	// DType is the element type fed.
	DType tfops.DType
	// Shape is the static shape; -1 marks a dimension of any size.
	Shape tfops.Shape
}

// labelDTypes are the dtypes y_true may have besides y_pred's: masks and
// class indices as decoders and Keras pipelines hold them.
var labelDTypes = []tfops.DType{tfops.Bool, tfops.Uint8, tfops.Int32, tfops.Int64}

// BuildFor makes the graph of the loss or metric name, configured by cfg,
// for inputs of the given dtypes and shapes (the static shapes of the
// tensors a caller will feed). Inputs are checked before anything is
// built: a missing or unknown input, mismatched y_true/y_pred shapes or a
// wrong rank is an ErrInput error naming the input and shapes. y_pred,
// weights and sample_weight must be float32 or float64, all of one dtype;
// y_true may also be bool, uint8, int32 or int64 (a mask or class
// indices), cast in the graph to y_pred's dtype. An optional input left
// out of inputs is not in the graph (sample_weight: no weighting).
func BuildFor(name string, cfg Config, inputs map[string]InputSpec) (*Graph, error) {
	spec, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	v, err := spec.Parse(cfg)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(inputs))
	for k := range inputs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !spec.hasInput(k) {
			return nil, fmt.Errorf("%w: %s takes no input %q; its inputs: %s", ErrInput, name, k, strings.Join(spec.Inputs, ", "))
		}
	}
	for _, in := range spec.Inputs {
		if _, ok := inputs[in]; !ok && !spec.IsOptional(in) {
			return nil, fmt.Errorf("%w: %s needs input %s (inputs: %s)", ErrInput, name, in, strings.Join(spec.Inputs, ", "))
		}
	}
	dt := inputs[InputPred].DType
	if dt != tfops.Float && dt != tfops.Double {
		return nil, fmt.Errorf("%w: %s: input %s is %v; want float32 or float64", ErrInput, name, InputPred, dt)
	}
	dts := map[string]tfops.DType{}
	shapes := map[string]tfops.Shape{}
	for _, k := range names {
		in := inputs[k]
		switch {
		case in.DType == dt:
		case k == InputTrue && (in.DType == tfops.Float || in.DType == tfops.Double || slices.Contains(labelDTypes, in.DType)):
		case k == InputTrue:
			return nil, fmt.Errorf("%w: %s: input %s is %v; want float32, float64, bool, uint8, int32 or int64", ErrInput, name, k, in.DType)
		default:
			return nil, fmt.Errorf("%w: %s: input %s is %v but %s is %v; want %v", ErrInput, name, k, in.DType, InputPred, dt, dt)
		}
		dts[k] = in.DType
		shapes[k] = in.Shape
	}
	return build(spec, v, dts, shapes, false)
}

func (s *Spec) hasInput(in string) bool {
	for _, x := range s.Inputs {
		if x == in {
			return true
		}
	}
	return false
}

// sparseLabels reports whether y_true holds class indices.
func (s *Spec) sparseLabels(v Values) bool {
	switch s.labels {
	case labelsSame:
		return false
	case labelsSparse:
		return true
	case labelsParam:
		return v.Word("labels") == "sparse" && v.Word("task") != "binary"
	}
	return false
}

// builder carries what a loss's graph code needs: the scope, parameters,
// inputs and the dtype of the arithmetic (y_pred's).
type builder struct {
	root  *tfops.Scope // the caller's scope (placeholders live here)
	s     *tfops.Scope // the loss's sub-scope
	spec  *Spec
	v     Values
	dt    tfops.DType
	yTrue tfops.Output
	yPred tfops.Output
	extra map[string]tfops.Output
	// defaultSW, when set, makes sample_weight a PlaceholderWithDefault of
	// ones shaped like the loss values, and is told its output.
	defaultSW func(tfops.Output)
	err       error
}

// run checks the inputs and builds the graph in a sub-scope.
func (b *builder) run(s *tfops.Scope, yTrue, yPred tfops.Output) (tfops.Output, error) {
	if !yTrue.Valid() || !yPred.Valid() {
		return tfops.Output{}, fmt.Errorf("%w: %s: y_true and y_pred must be valid tensors", ErrInput, b.spec.Name)
	}
	b.dt = yPred.DType()
	if b.dt != tfops.Float && b.dt != tfops.Double {
		return tfops.Output{}, fmt.Errorf("%w: %s: y_pred (%s) is %v; want float32 or float64", ErrInput, b.spec.Name, yPred.Name(), b.dt)
	}
	b.s = s.SubScope(b.spec.Name)
	if yTrue.DType() != b.dt {
		yTrue = tfops.Cast(b.s, yTrue, b.dt)
	}
	for k, o := range b.extra {
		if !o.Valid() {
			return tfops.Output{}, fmt.Errorf("%w: %s: input %s is not a valid tensor", ErrInput, b.spec.Name, k)
		}
		if o.DType() != b.dt {
			b.extra[k] = tfops.Cast(b.s, o, b.dt)
		}
	}
	for _, in := range b.spec.Inputs {
		if in == InputTrue || in == InputPred || b.spec.IsOptional(in) {
			continue
		}
		if _, ok := b.extra[in]; !ok {
			return tfops.Output{}, fmt.Errorf("%w: %s needs input %s", ErrInput, b.spec.Name, in)
		}
	}
	b.yTrue, b.yPred = yTrue, yPred
	if err := b.checkShapes(); err != nil {
		return tfops.Output{}, err
	}
	out := b.spec.build(b)
	if b.err != nil {
		return tfops.Output{}, b.err
	}
	if err := s.Err(); err != nil {
		return tfops.Output{}, fmt.Errorf("graphs: build %s: %w", b.spec.Name, err)
	}
	return out, nil
}

// fail records the first input error found while building.
func (b *builder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("%w: %s: %s", ErrInput, b.spec.Name, fmt.Sprintf(format, args...))
	}
}

// checkShapes checks the static shapes of the inputs against the spec.
func (b *builder) checkShapes() error {
	t, p := b.yTrue.Shape(), b.yPred.Shape()
	if n := b.spec.needsRank; n > 0 && p.RankKnown() && p.Rank() != n {
		return fmt.Errorf("%w: %s needs y_pred of rank %d (NHWC), got shape %v", ErrInput, b.spec.Name, n, p)
	}
	if b.spec.sparseLabels(b.v) {
		if t.RankKnown() && p.RankKnown() {
			lt := t
			if t.Rank() == p.Rank() && t.Rank() > 0 && t.Dim(t.Rank()-1) == 1 {
				lt = tfops.MakeShape(t.Dims()[:t.Rank()-1]...)
			}
			if p.Rank() < 1 || lt.Rank() != p.Rank()-1 || !lt.CompatibleWith(tfops.MakeShape(p.Dims()[:p.Rank()-1]...)) {
				return fmt.Errorf("%w: %s: y_true (class indices) has shape %v, y_pred has shape %v; want y_true of y_pred's shape without its last axis (or with it of size 1)",
					ErrInput, b.spec.Name, t, p)
			}
		}
	} else if !t.CompatibleWith(p) && !b.kerasRankRule(t, p) {
		return fmt.Errorf("%w: %s: y_true has shape %v but y_pred has shape %v; they must match", ErrInput, b.spec.Name, t, p)
	}
	if w, ok := b.extra[InputWeights]; ok && !w.Shape().CompatibleWith(t) {
		return fmt.Errorf("%w: %s: weights has shape %v but y_true has shape %v; they must match", ErrInput, b.spec.Name, w.Shape(), t)
	}
	return nil
}

// kerasRankRule reports whether the Keras losses accept t and p after
// squeezing or expanding a last axis of size 1 (Keras'
// squeeze_or_expand_to_same_rank).
func (b *builder) kerasRankRule(t, p tfops.Shape) bool {
	if !strings.HasPrefix(b.spec.Name, "keras_") || !t.RankKnown() || !p.RankKnown() {
		return false
	}
	t2, p2 := squeezeOrExpandShapes(t, p)
	return t2.CompatibleWith(p2)
}
