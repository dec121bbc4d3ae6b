package graphs

//go:generate go run ./internal/genmodels -out ../models

import (
	"errors"
	"fmt"
	"os"

	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

// SignatureUnweighted is the key of the extra signature of the Keras losses
// that leaves sample_weight out (it then defaults to ones).
const SignatureUnweighted = "unweighted"

// ExportOption configures Export.
type ExportOption func(*exportOptions)

type exportOptions struct {
	replace bool
}

// WithReplace lets Export replace an existing, non-empty dir: the new
// SavedModel is written beside it and renamed into place, so dir holds
// either the old export or the new one, never a mix. Without it a
// non-empty dir is a savedmodel.ErrExport error.
func WithReplace() ExportOption { return func(o *exportOptions) { o.replace = true } }

// Export writes the loss or metric name, configured by cfg, as a
// SavedModel in dir (absent or empty, or any dir WithReplace): tag "serve", signature
// "serving_default" with float32 inputs y_true, y_pred (and weights or
// sample_weight when the loss has them) of unknown dimensions, and the
// output "loss" (a metric: "metric"). The Keras losses get a second
// signature, "unweighted", without sample_weight. The files are
// deterministic: the same loss and parameters give the same bytes.
func Export(dir, name string, cfg Config, opts ...ExportOption) error {
	g, err := Build(name, cfg)
	if err != nil {
		return err
	}
	return g.Export(dir, opts...)
}

// Export writes the graph as a SavedModel in dir; see the Export function.
func (g *Graph) Export(dir string, opts ...ExportOption) error {
	var o exportOptions
	for _, opt := range opts {
		opt(&o)
	}
	outKey := g.Spec.outputName()
	outputs := map[string]savedmodel.TensorInfo{outKey: {Name: g.Output, DType: tfops.Float, Shape: tfops.UnknownShape()}}
	sig := func(key string, skipOptional bool) savedmodel.Signature {
		s := savedmodel.Signature{Key: key, MethodName: savedmodel.PredictMethod,
			Inputs: map[string]savedmodel.TensorInfo{}, Outputs: outputs}
		for in, tensor := range g.Inputs {
			if skipOptional && g.Spec.IsOptional(in) {
				continue
			}
			s.Inputs[in] = savedmodel.TensorInfo{Name: tensor, DType: tfops.Float, Shape: g.InputShapes[in]}
		}
		return s
	}
	sigs := map[string]savedmodel.Signature{savedmodel.DefaultSignatureKey: sig(savedmodel.DefaultSignatureKey, false)}
	if len(g.Optional) > 0 {
		sigs[SignatureUnweighted] = sig(SignatureUnweighted, true)
	}
	if err := savedmodel.Write(dir, &savedmodel.Export{Graph: g.GraphDef, Tags: []string{savedmodel.ServeTag}, Signatures: sigs, Replace: o.replace}); err != nil {
		hint := ""
		if !o.replace && errors.Is(err, savedmodel.ErrExport) && nonEmptyDir(dir) {
			hint = " (pass graphs.WithReplace() to replace it)"
		}
		return fmt.Errorf("graphs: export %s: %w%s", g.Spec.Name, err, hint)
	}
	return nil
}

// nonEmptyDir reports whether dir is a directory with entries.
func nonEmptyDir(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) > 0
}
