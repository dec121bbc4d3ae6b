package baseline

import (
	"fmt"

	"github.com/tfseg/tfseg/savedmodel"
	"github.com/tfseg/tfseg/tfops"
)

// Names of the baseline model's graph tensors and signature.
const (
	// InputName is the signature input: float32 images (N, H, W, 1).
	InputName = "image"
	// OutputName is the signature output: the foreground probability (N, H, W, 1).
	OutputName = "probability"
	// LogitsNode is the node computing Gain·s + Bias, the input of the final Sigmoid.
	LogitsNode = "logits"
	// KernelVariable, GainVariable and BiasVariable are the model's variables.
	KernelVariable = "smooth/kernel"
	GainVariable   = "calibration/gain"
	BiasVariable   = "calibration/bias"
)

// Kernel returns the 2-D Gaussian kernel of c as a Conv2D filter of shape
// (k, k, 1, 1), k = 2·Radius(Sigma)+1: the outer product of Gaussian1D
// with itself, in float32.
func (c Calibration) Kernel() *tfops.Tensor {
	g := Gaussian1D(c.Sigma)
	k := len(g)
	w := make([]float32, k*k)
	for i := range g {
		for j := range g {
			w[i*k+j] = float32(g[i] * g[j])
		}
	}
	return tfops.MustFromSlice(w, k, k, 1, 1)
}

// Model builds the baseline segmentation model as a SavedModel export:
//
//	s = Conv2D(MirrorPad(image, r, SYMMETRIC), kernel, VALID)   (Gaussian smoothing)
//	probability = Sigmoid(gain·s + bias)
//
// The kernel, gain and bias are resource variables (VarHandleOp, read by
// ReadVariableOp) stored in the SavedModel's variables bundle. SYMMETRIC
// mirror padding by r = Radius(Sigma) keeps the output the input's size
// and matches scipy.ndimage's "reflect" mode; images must be at least r
// pixels high and wide (MirrorPad's limit). The signature
// "serving_default" maps input "image" (float32, (-1, -1, -1, 1)) to
// output "probability" of the same shape; the final op is a Sigmoid, so an
// evaluation asking for losses from logits reads node "logits".
func Model(c Calibration) (*savedmodel.Export, error) {
	if !(c.Sigma > 0) || c.Gain == 0 {
		return nil, fmt.Errorf("baseline: model: calibration %+v needs sigma > 0 and a non-zero gain", c)
	}
	s := tfops.NewScope()
	imgShape := tfops.MakeShape(-1, -1, -1, 1)
	x := tfops.Placeholder(s.WithOpName(InputName), tfops.Float, imgShape)
	kernel := c.Kernel()
	kshape := tfops.ShapeOf(kernel.Shape())
	kh := savedmodel.VarHandleOp(s, KernelVariable, tfops.Float, kshape)
	gh := savedmodel.VarHandleOp(s, GainVariable, tfops.Float, tfops.ScalarShape())
	bh := savedmodel.VarHandleOp(s, BiasVariable, tfops.Float, tfops.ScalarShape())
	k := savedmodel.ReadVariableOp(s.SubScope("smooth"), kh, tfops.Float, kshape)
	r := int32(Radius(c.Sigma))
	pads := tfops.Const(s.SubScope("smooth").WithOpName("paddings"), tfops.MustFromSlice([]int32{0, 0, r, r, r, r, 0, 0}, 4, 2))
	padded := opOutput(s.SubScope("smooth").AddOp(tfops.OpSpec{Type: "MirrorPad", Inputs: []any{x, pads},
		Attrs:   map[string]any{"T": tfops.Float, "Tpaddings": tfops.Int32, "mode": "SYMMETRIC"},
		Outputs: []tfops.OutputInfo{{DType: tfops.Float, Shape: imgShape}}}))
	smoothed := opOutput(s.SubScope("smooth").AddOp(tfops.OpSpec{Type: "Conv2D", Inputs: []any{padded, k},
		Attrs: map[string]any{"T": tfops.Float, "strides": []int64{1, 1, 1, 1}, "padding": "VALID",
			"data_format": "NHWC", "dilations": []int64{1, 1, 1, 1}, "use_cudnn_on_gpu": true, "explicit_paddings": []int64{}},
		Outputs: []tfops.OutputInfo{{DType: tfops.Float, Shape: imgShape}}}))
	cs := s.SubScope("calibration")
	gain := savedmodel.ReadVariableOp(cs, gh, tfops.Float, tfops.ScalarShape())
	bias := savedmodel.ReadVariableOp(cs, bh, tfops.Float, tfops.ScalarShape())
	logits := tfops.AddV2(s.WithOpName(LogitsNode), tfops.Mul(cs, smoothed, gain), bias)
	prob := tfops.Sigmoid(s.WithOpName(OutputName), logits)
	g, err := s.Finalize()
	if err != nil {
		return nil, fmt.Errorf("baseline: model: %w", err)
	}
	info := func(o tfops.Output) savedmodel.TensorInfo {
		return savedmodel.TensorInfo{Name: o.Name(), DType: tfops.Float, Shape: imgShape}
	}
	return &savedmodel.Export{
		Graph: g,
		Signatures: map[string]savedmodel.Signature{savedmodel.DefaultSignatureKey: {
			Inputs:     map[string]savedmodel.TensorInfo{InputName: info(x)},
			Outputs:    map[string]savedmodel.TensorInfo{OutputName: info(prob)},
			MethodName: savedmodel.PredictMethod,
		}},
		Variables: map[string]*tfops.Tensor{
			kh.Op.Name(): kernel,
			gh.Op.Name(): tfops.FromScalar(float32(c.Gain)),
			bh.Op.Name(): tfops.FromScalar(float32(c.Bias)),
		},
	}, nil
}

func opOutput(op *tfops.Operation) tfops.Output {
	if op == nil {
		return tfops.Output{}
	}
	return op.Output(0)
}

// WriteModel writes the baseline model with calibration c as a SavedModel
// in dir, which must be absent or empty (to replace a model, write
// Model's export with Replace set).
func WriteModel(dir string, c Calibration) error {
	e, err := Model(c)
	if err != nil {
		return err
	}
	return savedmodel.Write(dir, e)
}
