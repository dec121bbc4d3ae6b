package goengine

import (
	"math"

	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
	"github.com/tfseg/tfseg/tfops"
)

// fusedConv2DKernel is TensorFlow's _FusedConv2D (what grappler's remapper,
// and fuseConvChains here, make of Conv2D → BiasAdd → activation): inputs
// x, filter and num_args = 1 bias vector, attrs those of Conv2D plus
// fused_ops, one of
//
//	[BiasAdd]                           out = conv(x, f) + bias
//	[BiasAdd, Relu|Relu6|Elu|LeakyRelu] out = act(conv(x, f) + bias)
//
// (LeakyRelu's slope in attr leakyrelu_alpha, default 0.2). Each element is
// computed as the unfused ops compute it: the float32 convolution sum, then
// + bias in float32, then the activation (bias and ReLU in the GEMM's
// registers, the others in a pass over the output). Unlike the unfused
// Relu kernel, the float32 ReLU does not flush denormal results to zero.
func fusedConv2DKernel(c *Context) ([]*tfops.Tensor, error) {
	fo, err := c.convFusedOps(3)
	if err != nil {
		return nil, err
	}
	x, f := c.Inputs[0], c.Inputs[1]
	if out, grouped, err := c.groupedConv(x, f); err != nil {
		return nil, err
	} else if grouped {
		if err := fo.checkBias(c, x.DType(), f.Shape()[3]); err != nil {
			return nil, err
		}
		fo.finish(c, out, false)
		return []*tfops.Tensor{out}, nil
	}
	g, out, err := c.convGeometry(x, f, false)
	if err != nil {
		return nil, err
	}
	if err := fo.checkBias(c, x.DType(), g.o); err != nil {
		return nil, err
	}
	applied := false
	switch x.DType() {
	case tfops.Float:
		conv2DFloat32(g, x.Float32s(), f.Float32s(), out.Float32s(), fo.epilogue(), c.Threads())
		applied = true
	case tfops.Double:
		conv2DGeneric(g, x.Float64s(), f.Float64s(), out.Float64s(), c.Threads())
	default:
		return nil, c.Errorf("unsupported dtype %v (want float32 or float64)", x.DType())
	}
	fo.finish(c, out, applied)
	return []*tfops.Tensor{out}, nil
}

// fusedConv2DBackpropInputKernel is Conv2DBackpropInput → BiasAdd [→
// activation] fused by fuseConvChains (TensorFlow has no such op; the
// name is internal to this engine): inputs input_sizes, filter,
// out_backprop and the bias, attrs those of Conv2DBackpropInput plus
// fused_ops as for _FusedConv2D.
func fusedConv2DBackpropInputKernel(c *Context) ([]*tfops.Tensor, error) {
	fo, err := c.convFusedOps(4)
	if err != nil {
		return nil, err
	}
	f := c.Inputs[1]
	if f.Rank() == 4 {
		if err := fo.checkBias(c, f.DType(), f.Shape()[2]); err != nil {
			return nil, err
		}
	}
	out, applied, err := c.backpropInput(c.Inputs[0], f, c.Inputs[2], fo.epilogue())
	if err != nil {
		return nil, err
	}
	fo.finish(c, out, applied)
	return []*tfops.Tensor{out}, nil
}

// convFusedOps is the parsed fused_ops of a fused convolution.
type convFusedOps struct {
	bias  *tfops.Tensor
	act   string // "" for none
	alpha float32
	// bn, for fused_ops [FusedBatchNorm, ...]: scale, offset, mean and
	// variance (bias is nil), and epsilon.
	bn  []*tfops.Tensor
	eps float32
}

// convFusedOps reads fused_ops and its arguments: the bias, the last of n
// inputs, or for [FusedBatchNorm, ...] the batch normalization's scale,
// offset, mean and variance, the last four of n + 3.
func (c *Context) convFusedOps(n int) (convFusedOps, error) {
	var fo convFusedOps
	fused, err := c.AttrStrings("fused_ops")
	if err != nil {
		return fo, err
	}
	args := 0 // the arguments fused_ops[0] takes
	if len(fused) > 0 {
		args = map[string]int{"BiasAdd": 1, "FusedBatchNorm": 4}[fused[0]]
	}
	if args == 0 || len(fused) > 2 || len(fused) == 2 && convActivations[fused[1]] == nil {
		return fo, c.Errorf("fused_ops %q are not supported (want [BiasAdd] or [FusedBatchNorm], then optionally Relu, Relu6, Elu or LeakyRelu)", fused)
	}
	if len(fused) == 2 {
		fo.act = fused[1]
	}
	if len(c.Inputs) != n-1+args {
		return fo, c.Errorf("expects %d inputs (the last %d the arguments of fused_ops %q), got %d", n-1+args, args, fused, len(c.Inputs))
	}
	if na, err := c.AttrIntOr("num_args", 1); err != nil || na != int64(args) {
		return fo, c.Errorf("num_args must be %d for fused_ops %q", args, fused)
	}
	if fo.alpha, err = c.AttrFloatOr("leakyrelu_alpha", 0.2); err != nil {
		return fo, err
	}
	if args == 4 {
		if fo.eps, err = c.AttrFloatOr("epsilon", 1e-4); err != nil {
			return fo, err
		}
		fo.bn = c.Inputs[n-1:]
		return fo, nil
	}
	fo.bias = c.Inputs[n-1]
	return fo, nil
}

// checkBias checks the fused ops' per-channel arguments against the
// convolution's dtype and output depth.
func (fo convFusedOps) checkBias(c *Context, dt tfops.DType, depth int) error {
	if fo.bn != nil {
		for i, name := range []string{"scale", "offset", "mean", "variance"} {
			t := fo.bn[i]
			if dt != tfops.Float || t.DType() != tfops.Float || t.Rank() != 1 || t.Shape()[0] != depth {
				return c.Errorf("fused batch normalization: %s must be a float32 vector of %d (the output depth) for a float32 convolution, got %v%v", name, depth, t.DType(), t.StaticShape())
			}
		}
		return nil
	}
	if fo.bias.DType() != dt || fo.bias.Rank() != 1 || fo.bias.Shape()[0] != depth {
		return c.Errorf("bias must be a %v vector of %d (the output depth), got %v%v", dt, depth, fo.bias.DType(), fo.bias.StaticShape())
	}
	return nil
}

// epilogue is the part of the fused ops a float32 GEMM applies.
func (fo convFusedOps) epilogue() convEpilogue {
	if fo.bn != nil || fo.bias.DType() != tfops.Float {
		return convEpilogue{}
	}
	return convEpilogue{bias: fo.bias.Float32s(), relu: fo.act == "Relu"}
}

// finish applies what the GEMM did not (all of it unless applied): the
// bias or the batch normalization and the activation, channel by channel
// in a pass over out (NHWC).
func (fo convFusedOps) finish(c *Context, out *tfops.Tensor, applied bool) {
	act := convActivations[fo.act]
	if fo.bn != nil {
		o := out.Float32s()
		newBatchNorm32(fo.bn, fo.eps).run(c, o, o, fo.act, fo.alpha)
		return
	}
	if applied && (fo.act == "" || fo.act == "Relu") {
		return
	}
	switch o := out.Data().(type) {
	case []float32:
		b := fo.bias.Float32s()
		convFinish(c, o, b, !applied, act, fo.alpha, true)
	case []float64:
		b := fo.bias.Float64s()
		convFinish(c, o, b, !applied, act, fo.alpha, false)
	}
}

// batchNorm32 is a float32 batch normalization in inference mode, per
// channel: y = (x - mean)·factor + offset, factor = scale / √(variance +
// epsilon), the steps of the FusedBatchNorm kernel (fusedBatchNormKernel)
// and of TensorFlow's (fused_batch_norm_op.cc; FusedBatchNormOutputKernel
// in a fused convolution), each rounded to float32.
type batchNorm32 struct {
	mean, factor, offset []float32
}

// newBatchNorm32 computes the factors from scale, offset, mean and
// variance (float32 vectors of one length).
func newBatchNorm32(p []*tfops.Tensor, eps float32) batchNorm32 {
	scale, offset, mean, variance := p[0].Float32s(), p[1].Float32s(), p[2].Float32s(), p[3].Float32s()
	factor := make([]float32, len(scale))
	for q := range factor {
		factor[q] = float32(1/math.Sqrt(float64(variance[q]+eps))) * scale[q]
	}
	return batchNorm32{mean: mean, factor: factor, offset: offset}
}

// run is apply over all of src and dst, pixels split among c's threads.
func (bn batchNorm32) run(c *Context, dst, src []float32, act string, alpha float32) {
	depth := len(bn.factor)
	if depth == 0 {
		return
	}
	c.parallel(len(src)/depth, grainHeavy/depth+1, func(lo, hi int) {
		bn.apply(dst[lo*depth:hi*depth], src[lo*depth:hi*depth], act, alpha)
	})
}

// apply normalizes the NHWC pixels of src into dst (of src's length; it
// may be src), then applies the activation act ("" for none; alpha is
// LeakyRelu's slope) as convActivations computes it: ReLU by the vector kernel (vec.Kernels.Relu,
// the bits of the Relu kernel's max(x, 0) loop, without its mispredicted
// branch per element), the others element by element.
func (bn batchNorm32) apply(dst, src []float32, act string, alpha float32) {
	depth := len(bn.factor)
	if depth == 0 {
		return
	}
	n := len(src) / depth * depth
	o, src := dst[:n], src[:n]
	mean, factor, offset := bn.mean[:depth:depth], bn.factor[:depth:depth], bn.offset[:depth:depth]
	for px := 0; px < n; px += depth {
		row, x := o[px:px+depth:px+depth], src[px:px+depth:px+depth]
		for q, v := range x {
			// The product rounded before the add (no fused multiply-add,
			// on any architecture), as TensorFlow's kernels compute it.
			row[q] = float32((v-mean[q])*factor[q]) + offset[q]
		}
	}
	switch act {
	case "":
	case "Relu":
		vec.Current().Relu(o, o)
	default:
		f := convActivations[act]
		for i, v := range o {
			o[i] = float32(f(float64(v), float64(alpha), true))
		}
	}
}

func convFinish[T float32 | float64](c *Context, o, b []T, addBias bool, act func(v, alpha float64, f32 bool) float64, alpha float32, f32 bool) {
	depth := len(b)
	if depth == 0 {
		return
	}
	c.parallel(len(o)/depth, grainHeavy/depth+1, func(lo, hi int) {
		convFinishRange(o[lo*depth:hi*depth], b, addBias, act, alpha, f32)
	})
}

// convFinishRange is convFinish's loop over the pixels of o, in one
// goroutine.
func convFinishRange[T float32 | float64](o, b []T, addBias bool, act func(v, alpha float64, f32 bool) float64, alpha float32, f32 bool) {
	depth := len(b)
	for px := 0; px < len(o)/depth; px++ {
		row := o[px*depth : (px+1)*depth]
		for q, v := range row {
			if addBias {
				v += b[q]
			}
			if act != nil {
				v = T(act(float64(v), float64(alpha), f32))
			}
			row[q] = v
		}
	}
}

// convActivations are the activations a fused convolution applies, each as
// the engine's own kernel computes it for float32 (f32) or float64 inputs;
// alpha is LeakyRelu's slope.
var convActivations = map[string]func(v, alpha float64, f32 bool) float64{
	"Relu": func(v, _ float64, _ bool) float64 { return relu(v) },
	"Relu6": func(v, _ float64, _ bool) float64 {
		return relu6(v)
	},
	"Elu": func(v, _ float64, f32 bool) float64 {
		if f32 {
			return float64(elu32(float32(v)))
		}
		return elu64(v)
	},
	"LeakyRelu": func(v, alpha float64, f32 bool) float64 {
		if v > 0 {
			return v
		}
		if f32 {
			return float64(float32(v) * float32(alpha))
		}
		return v * alpha
	},
}
