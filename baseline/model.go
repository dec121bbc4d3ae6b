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
	// KernelYVariable, KernelXVariable, GainVariable and BiasVariable are
	// the model's variables: the vertical (k, 1, 1, 1) and horizontal
	// (1, k, 1, 1) Gaussian filters, and the logistic map's gain and bias.
	KernelYVariable = "smooth/kernel_y"
	KernelXVariable = "smooth/kernel_x"
	GainVariable    = "calibration/gain"
	BiasVariable    = "calibration/bias"
)

// Kernels returns the Gaussian of c as two Conv2D filters, vertical
// (k, 1, 1, 1) and horizontal (1, k, 1, 1), k = 2·Radius(Sigma)+1: the
// taps of Gaussian1D in float32. Applied one after the other they smooth
// with the 2-D Gaussian (their outer product) at 2k instead of k²
// multiplications per pixel.
func (c Calibration) Kernels() (y, x *tfops.Tensor) {
	g := Gaussian1D(c.Sigma)
	taps := make([]float32, len(g))
	for i, v := range g {
		taps[i] = float32(v)
	}
	return tfops.MustFromSlice(taps, len(g), 1, 1, 1), tfops.MustFromSlice(append([]float32{}, taps...), 1, len(g), 1, 1)
}

// Model builds the baseline segmentation model as a SavedModel export:
//
//	s = Conv2D(Conv2D(MirrorPad(image, r, SYMMETRIC), kernel_y, VALID), kernel_x, VALID)
//	probability = Sigmoid(gain·s + bias)
//
// the separable Gaussian smoothing of Smooth, then the calibrated logistic
// map. The kernels, gain and bias are resource variables (VarHandleOp,
// read by ReadVariableOp) stored in the SavedModel's variables bundle. SYMMETRIC
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
	ky, kx := c.Kernels()
	vars := map[string]*tfops.Tensor{}
	variable := func(name string, v *tfops.Tensor) tfops.Output {
		sh := tfops.ShapeOf(v.Shape())
		h := savedmodel.VarHandleOp(s, name, tfops.Float, sh)
		vars[h.Op.Name()] = v
		return savedmodel.ReadVariableOp(s.SubScope(name), h, tfops.Float, sh)
	}
	ss := s.SubScope("smooth")
	r := int32(Radius(c.Sigma))
	pads := tfops.Const(ss.WithOpName("paddings"), tfops.MustFromSlice([]int32{0, 0, r, r, r, r, 0, 0}, 4, 2))
	padded := opOutput(ss.AddOp(tfops.OpSpec{Type: "MirrorPad", Inputs: []any{x, pads},
		Attrs:   map[string]any{"T": tfops.Float, "Tpaddings": tfops.Int32, "mode": "SYMMETRIC"},
		Outputs: []tfops.OutputInfo{{DType: tfops.Float, Shape: imgShape}}}))
	conv := func(in, k tfops.Output) tfops.Output {
		return opOutput(ss.AddOp(tfops.OpSpec{Type: "Conv2D", Inputs: []any{in, k},
			Attrs: map[string]any{"T": tfops.Float, "strides": []int64{1, 1, 1, 1}, "padding": "VALID",
				"data_format": "NHWC", "dilations": []int64{1, 1, 1, 1}, "use_cudnn_on_gpu": true, "explicit_paddings": []int64{}},
			Outputs: []tfops.OutputInfo{{DType: tfops.Float, Shape: imgShape}}}))
	}
	smoothed := conv(conv(padded, variable(KernelYVariable, ky)), variable(KernelXVariable, kx))
	gain := variable(GainVariable, tfops.FromScalar(float32(c.Gain)))
	bias := variable(BiasVariable, tfops.FromScalar(float32(c.Bias)))
	logits := tfops.AddV2(s.WithOpName(LogitsNode), tfops.Mul(s.SubScope("calibration"), smoothed, gain), bias)
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
		Variables: vars,
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
