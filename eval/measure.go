package eval

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// ErrMeasure is returned for a loss or metric eval cannot compute.
var ErrMeasure = errors.New("eval: bad loss or metric")

// Measure is a loss or metric of package graphs with its parameters.
type Measure struct {
	// Name is the graphs registry name ("dice_coef", "keras_bce").
	Name string
	// Config holds the parameters given (graphs.Config); defaults fill the rest.
	Config graphs.Config
}

// String is the measure as ParseMeasure reads it, and its column name:
// "iou", or "ce:keras=2" (parameters sorted by name; graphs.FormatLoss).
func (m Measure) String() string { return graphs.FormatLoss(m.Name, m.Config) }

// ParseMeasure parses "NAME" or "NAME:key=value,key=value" with
// graphs.ParseLoss: a list value keeps its commas
// ("lovasz_softmax:class_weights=1,2,3,per_image=true"). An unknown name
// is graphs.ErrUnknown's error; a malformed parameter list an ErrMeasure
// error wrapping graphs.ErrParam's, quoting the bad piece.
func ParseMeasure(s string) (Measure, error) {
	name, cfg, err := graphs.ParseLoss(s)
	if errors.Is(err, graphs.ErrUnknown) {
		return Measure{}, err
	}
	if err != nil {
		return Measure{}, fmt.Errorf("%w: %w", ErrMeasure, err)
	}
	return Measure{Name: name, Config: cfg}, nil
}

// DefaultMetrics are the metrics computed when none is asked for.
var DefaultMetrics = []Measure{{Name: "iou"}, {Name: "dice_coef"}, {Name: "precision"}, {Name: "recall"}, {Name: "pixel_accuracy"}}

// DefaultLoss is the loss computed when none is asked for: Keras'
// BinaryCrossentropy for a one-channel (sigmoid) output, its
// CategoricalCrossentropy for more channels.
func DefaultLoss(channels int) Measure {
	if channels == 1 {
		return Measure{Name: "keras_bce"}
	}
	return Measure{Name: "keras_cce"}
}

// column is one computed value per image.
type column struct {
	name    string
	kind    graphs.Kind
	sess    engine.Session
	graph   *graphs.Graph
	sparse  bool // y_true holds class indices (N, H, W)
	logits  bool // y_pred is the model's logits
	class   int  // >= 0: element of a per-class vector; fgMean: mean over classes >= 1
	perClas bool // the graph returns a per-class vector, split over columns
}

// fgMean marks the column holding the mean over the foreground classes.
const fgMean = -2

// measureSet holds the sessions computing the columns.
type measureSet struct {
	columns []*column
	// sessions to close (a per-class graph feeds several columns).
	sessions []engine.Session
}

func (ms *measureSet) close() {
	for _, s := range ms.sessions {
		s.Close()
	}
}

// buildMeasures builds one graph and session per measure for a model with
// the given output channels. Binary outputs (1 channel) get task=binary
// metrics; multi-class outputs task=multiclass metrics, plus a per-class
// column for each class (average=none) unless the metric already asks for
// average=none. With logits available, losses that have a from_logits
// parameter the caller left unset read the logits with from_logits=true.
func buildMeasures(eng engine.Engine, losses, metrics []Measure, channels int, haveLogits bool) (*measureSet, error) {
	ms := &measureSet{}
	add := func(m Measure, kind graphs.Kind, label string, perClass bool) error {
		spec, err := graphs.Lookup(m.Name)
		if err != nil {
			return err
		}
		if spec.Kind != kind {
			return fmt.Errorf("%w: %s is a %s, not a %s", ErrMeasure, m.Name, spec.Kind, kind)
		}
		for _, in := range spec.Inputs {
			if in != graphs.InputTrue && in != graphs.InputPred && !spec.IsOptional(in) {
				return fmt.Errorf("%w: %s needs input %q, which eval does not provide", ErrMeasure, m.Name, in)
			}
		}
		cfg := graphs.Config{}
		for k, v := range m.Config {
			cfg[k] = v
		}
		useLogits := false
		if _, ok := spec.Param("task"); ok && cfg["task"] == "" {
			cfg["task"] = map[bool]string{true: "binary", false: "multiclass"}[channels == 1]
		}
		if _, ok := spec.Param("from_logits"); ok && haveLogits && kind == graphs.KindLoss && cfg["from_logits"] == "" {
			cfg["from_logits"], useLogits = "true", true
		}
		if perClass {
			cfg["average"] = "none"
		}
		g, err := graphs.Build(m.Name, cfg)
		if err != nil {
			return fmt.Errorf("%w: %s: %w", ErrMeasure, label, err)
		}
		sess, err := eng.NewSession(g.GraphDef, engine.SessionOptions{Threads: 1})
		if err != nil {
			return fmt.Errorf("eval: %s on engine %s: %w", label, eng.Name(), err)
		}
		ms.sessions = append(ms.sessions, sess)
		sparse := g.InputShapes[graphs.InputTrue].RankKnown() && g.InputShapes[graphs.InputTrue].Rank() == 3
		if !perClass {
			ms.columns = append(ms.columns, &column{name: label, kind: kind, sess: sess, graph: g, sparse: sparse, logits: useLogits, class: -1})
			return nil
		}
		for c := range channels {
			ms.columns = append(ms.columns, &column{name: fmt.Sprintf("%s[%d]", label, c), kind: kind, sess: sess, graph: g,
				sparse: sparse, class: c, perClas: true})
		}
		if channels > 2 {
			ms.columns = append(ms.columns, &column{name: label + "[fg]", kind: kind, sess: sess, graph: g,
				sparse: sparse, class: fgMean, perClas: true})
		}
		return nil
	}
	for _, m := range losses {
		if err := add(m, graphs.KindLoss, m.String(), false); err != nil {
			ms.close()
			return nil, err
		}
	}
	for _, m := range metrics {
		if err := add(m, graphs.KindMetric, m.String(), false); err != nil {
			ms.close()
			return nil, err
		}
		if channels > 1 && m.Config["average"] == "" {
			if spec, _ := graphs.Lookup(m.Name); spec != nil {
				if _, ok := spec.Param("average"); ok {
					if err := add(m, graphs.KindMetric, m.String(), true); err != nil {
						ms.close()
						return nil, err
					}
				}
			}
		}
	}
	return ms, nil
}

// compute evaluates every column on one image: truth is the class-index
// mask (h*w), prob and logits (nil when absent) the model's (1, h, w, C) outputs.
func (ms *measureSet) compute(ctx context.Context, truth []int32, prob, logits *tfops.Tensor) ([]float64, error) {
	shape := prob.Shape()
	h, w, C := shape[1], shape[2], shape[3]
	var onehot, sparse *tfops.Tensor
	yTrue := func(c *column) *tfops.Tensor {
		if c.sparse {
			if sparse == nil {
				v := make([]float32, len(truth))
				for i, l := range truth {
					v[i] = float32(l)
				}
				sparse = tfops.MustFromSlice(v, 1, h, w)
			}
			return sparse
		}
		if onehot == nil {
			if C == 1 {
				v := make([]float32, len(truth))
				for i, l := range truth {
					v[i] = float32(l)
				}
				onehot = tfops.MustFromSlice(v, 1, h, w, 1)
			} else {
				v := make([]float32, len(truth)*C)
				for i, l := range truth {
					v[i*C+int(l)] = 1
				}
				onehot = tfops.MustFromSlice(v, 1, h, w, C)
			}
		}
		return onehot
	}
	out := make([]float64, len(ms.columns))
	var vec []float32
	var vecSess engine.Session
	for i, c := range ms.columns {
		if c.perClas && c.sess == vecSess && vec != nil {
			out[i] = classValue(vec, c.class)
			continue
		}
		pred := prob
		if c.logits {
			pred = logits
		}
		res, err := c.sess.Run(ctx, map[string]*tfops.Tensor{
			c.graph.Inputs[graphs.InputTrue]: yTrue(c),
			c.graph.Inputs[graphs.InputPred]: pred,
		}, []string{c.graph.Output}, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		v := res[0].Float32s()
		switch {
		case c.perClas:
			if len(v) != C {
				return nil, fmt.Errorf("%w: %s returned %d values for %d classes", ErrMeasure, c.name, len(v), C)
			}
			vec, vecSess = v, c.sess
			out[i] = classValue(v, c.class)
		case len(v) == 1:
			out[i] = float64(v[0])
		case c.kind == graphs.KindLoss && len(v) > 1:
			// An unreduced loss (reduction=none): its mean, as Keras'
			// default sum_over_batch_size reduction gives.
			var sum float64
			for _, x := range v {
				sum += float64(x)
			}
			out[i] = sum / float64(len(v))
		default:
			return nil, fmt.Errorf("%w: %s returned shape %v, not a scalar per image (set reduction or average to a scalar form)", ErrMeasure, c.name, res[0].Shape())
		}
	}
	return out, nil
}

// classValue returns element class of a per-class vector, or for fgMean the mean
// of the foreground classes' values that are not NaN (NaN when none is).
func classValue(v []float32, class int) float64 {
	if class >= 0 {
		return float64(v[class])
	}
	var sum float64
	n := 0
	for _, x := range v[1:] {
		if !math.IsNaN(float64(x)) {
			sum += float64(x)
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}
