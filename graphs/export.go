package graphs

//go:generate go run ./internal/genmodels -out ../models

import (
	"fmt"

	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

// SignatureUnweighted is the key of the extra signature of the Keras losses
// that leaves sample_weight out (it then defaults to ones).
const SignatureUnweighted = "unweighted"

// Export writes the loss or metric name, configured by cfg, as a
// SavedModel in dir (absent or empty): tag "serve", signature
// "serving_default" with float32 inputs y_true, y_pred (and weights or
// sample_weight when the loss has them) of unknown dimensions, and the
// output "loss" (a metric: "metric"). The Keras losses get a second
// signature, "unweighted", without sample_weight. The files are
// deterministic: the same loss and parameters give the same bytes.
func Export(dir, name string, cfg Config) error {
	g, err := Build(name, cfg)
	if err != nil {
		return err
	}
	return g.Export(dir)
}

// Export writes the graph as a SavedModel in dir; see the Export function.
func (g *Graph) Export(dir string) error {
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
	if err := savedmodel.Write(dir, &savedmodel.Export{Graph: g.GraphDef, Tags: []string{savedmodel.ServeTag}, Signatures: sigs}); err != nil {
		return fmt.Errorf("graphs: export %s: %w", g.Spec.Name, err)
	}
	return nil
}
