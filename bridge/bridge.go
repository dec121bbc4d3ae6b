//go:build tensorflow

package bridge

import (
	"errors"
	"fmt"
	"strings"

	tf "github.com/wamuir/graft/tensorflow"
	"google.golang.org/protobuf/proto"

	"github.com/tfseg/tfseg/bridge/internal/lossgraph"
	"github.com/tfseg/tfseg/graphs"
	"github.com/tfseg/tfseg/tfops"
)

// ErrImport is returned when TensorFlow's graph importer rejects the loss
// (a prefix already in use, an op the linked libtensorflow lacks, ...).
var ErrImport = errors.New("bridge: import failed")

// ImportLoss builds the loss or metric name (a graphs registry name,
// configured by cfg) and imports it into g, on the caller's tensors: yTrue
// and yPred, and in extra the spec's other inputs ("weights" for
// distance_ce, "sample_weight" for the Keras losses). It returns the loss
// tensor, a scalar of yPred's dtype named "<prefix>/loss" ("<prefix>/metric"
// for a metric).
//
// Every imported node is named under prefix. An empty prefix means the
// loss's name, made unique in g ("focal", "focal_1", ...); a prefix that
// is already in use in g makes TensorFlow's importer fail (ErrImport).
//
// Tensors must belong to g. Errors wrap graphs.ErrUnknown, graphs.ErrParam
// or graphs.ErrInput (an input missing, of a wrong dtype, or of a shape the
// loss cannot take: the message names the loss and the caller's tensors),
// or ErrImport.
func ImportLoss(g *tf.Graph, prefix, name string, cfg graphs.Config, yTrue, yPred tf.Output, extra map[string]tf.Output) (tf.Output, error) {
	if g == nil {
		return tf.Output{}, fmt.Errorf("%w: %s: nil graph", graphs.ErrInput, name)
	}
	tensors, inputs, err := lossgraph.Inputs(name, yTrue, yPred, extra, func(k string, o tf.Output) (lossgraph.Tensor, error) {
		return describe(g, name, k, o)
	})
	if err != nil {
		return tf.Output{}, err
	}
	lg, err := lossgraph.Build(name, cfg, inputs)
	if err != nil {
		return tf.Output{}, err
	}
	def, err := proto.Marshal(lg.Def)
	if err != nil {
		return tf.Output{}, fmt.Errorf("%w: %s: marshal GraphDef: %w", ErrImport, name, err)
	}
	if prefix == "" {
		prefix = freePrefix(g, name)
	} else if n := nodeUnder(g, prefix); n != "" {
		return tf.Output{}, fmt.Errorf("%w: %s: prefix %q is in use (node %s)", ErrImport, name, prefix, n)
	}
	opts := tf.GraphImportOptions{Prefix: prefix}
	for k, ph := range lg.Placeholders {
		opts.AddInputMapping(ph, 0, tensors[k])
	}
	if err := g.ImportWithOptions(def, opts); err != nil {
		return tf.Output{}, fmt.Errorf("%w: %s under prefix %q: %w", ErrImport, name, prefix, err)
	}
	op := g.Operation(prefix + "/" + lg.Output)
	if op == nil {
		return tf.Output{}, fmt.Errorf("%w: %s: imported graph has no node %s/%s", ErrImport, name, prefix, lg.Output)
	}
	return op.Output(0), nil
}

// describe checks that o is a tensor of g and returns its name, dtype and
// static shape for the loss graph's placeholder.
func describe(g *tf.Graph, name, input string, o tf.Output) (lossgraph.Tensor, error) {
	if o.Op == nil {
		return lossgraph.Tensor{}, fmt.Errorf("%w: %s: %s is not a tensor (tf.Output with a nil Op)", graphs.ErrInput, name, input)
	}
	tname := fmt.Sprintf("%s:%d", o.Op.Name(), o.Index)
	if op := g.Operation(o.Op.Name()); op == nil || *op != *o.Op {
		return lossgraph.Tensor{}, fmt.Errorf("%w: %s: %s (tensor %q) is not in the graph the loss is imported into", graphs.ErrInput, name, input, tname)
	}
	if o.Index < 0 || o.Index >= o.Op.NumOutputs() {
		return lossgraph.Tensor{}, fmt.Errorf("%w: %s: %s (tensor %q): op %s has %d outputs", graphs.ErrInput, name, input, tname, o.Op.Type(), o.Op.NumOutputs())
	}
	sh := o.Shape()
	return lossgraph.Tensor{Name: tname, DType: tfops.DType(o.DataType()), Shape: lossgraph.ShapeOf(sh.NumDimensions(), sh.Size)}, nil
}

// freePrefix returns base, or base_1, base_2, ...: the first that no node
// of g is named as or under.
func freePrefix(g *tf.Graph, base string) string {
	p := base
	for i := 1; nodeUnder(g, p) != ""; i++ {
		p = fmt.Sprintf("%s_%d", base, i)
	}
	return p
}

// nodeUnder returns the name of a node of g named prefix or under prefix/,
// or "" if there is none.
func nodeUnder(g *tf.Graph, prefix string) string {
	for _, op := range g.Operations() {
		if n := op.Name(); n == prefix || strings.HasPrefix(n, prefix+"/") {
			return n
		}
	}
	return ""
}
