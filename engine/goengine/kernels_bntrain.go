package goengine

import (
	"math"

	"github.com/tfseg/tfseg/tfops"
)

// fusedBatchNormTraining is FusedBatchNorm* with is_training = true, which
// tf.keras 2.x's LayerNormalization runs at inference (it normalizes each
// row through nn.fused_batch_norm on a [1, rows, cols, 1] NCHW view), as
// TensorFlow's CPU kernel computes it
// (tensorflow/core/kernels/fused_batch_norm_op.cc, FusedBatchNorm<CPUDevice,
// T, U, true>), in float32 per channel over the other dimensions:
//
//	mean = Σx · (1/n), var = Σ(x - mean)² · (1/n)
//	y = (x - mean) · (rsqrt(var + epsilon) · scale) + offset
//
// Outputs: y, batch_mean and batch_variance (var · n/(n-1), Bessel's
// correction; with exponential_avg_factor f ≠ 1 blended with the mean and
// variance inputs as (1-f)·old + f·new), reserve_space_1 and _2 (mean and
// the uncorrected var) and, for V3, an empty reserve_space_3. Sums are
// accumulated in float64 and rounded once (TensorFlow's Eigen reduction
// sums float32 in blocks: both are within a few ulp of the exact sum).
func fusedBatchNormTraining(c *Context, nout int, eps float32, depth, inner int, x *tfops.Tensor, p [4][]float32) ([]*tfops.Tensor, error) {
	factor, err := c.AttrFloatOr("exponential_avg_factor", 1)
	if err != nil {
		return nil, err
	}
	scale, offset, oldMean, oldVar := p[0], p[1], p[2], p[3]
	xd := x.Float32s()
	n := len(xd) / max(depth, 1)
	inv := float32(1) / float32(n)
	nm1 := max(n-1, 1)
	adjust := float32(n) / float32(nm1)
	mean := make([]float32, depth)
	vr := make([]float32, depth)
	sum := make([]float64, depth)
	for i, v := range xd {
		sum[(i/inner)%depth] += float64(v)
	}
	for q := range mean {
		mean[q] = float32(sum[q]) * inv
		sum[q] = 0
	}
	for i, v := range xd {
		q := (i / inner) % depth
		d := v - mean[q]
		sum[q] += float64(d * d)
	}
	for q := range vr {
		vr[q] = float32(sum[q]) * inv
	}
	y, err := c.Alloc(tfops.Float, x.Shape()...)
	if err != nil {
		return nil, err
	}
	sf := make([]float32, depth)
	for q := range sf {
		sf[q] = float32(1/math.Sqrt(float64(vr[q]+eps))) * scale[q]
	}
	yd := y.Float32s()
	for i, v := range xd {
		q := (i / inner) % depth
		yd[i] = (v-mean[q])*sf[q] + offset[q]
	}
	newMean := append([]float32{}, mean...)
	newVar := make([]float32, depth)
	for q := range newVar {
		if factor == 1 {
			newVar[q] = vr[q] * adjust
			continue
		}
		if len(oldMean) != depth || len(oldVar) != depth {
			return nil, c.Errorf("with exponential_avg_factor %v, mean and variance must be vectors of %d, got %d and %d elements", factor, depth, len(oldMean), len(oldVar))
		}
		newVar[q] = (1-factor)*oldVar[q] + (factor*adjust)*vr[q]
		newMean[q] = (1-factor)*oldMean[q] + factor*mean[q]
	}
	outs := []*tfops.Tensor{y, tfops.MustFromSlice(newMean, depth), tfops.MustFromSlice(newVar, depth),
		tfops.MustFromSlice(mean, depth), tfops.MustFromSlice(vr, depth)}
	if nout == 6 {
		r3, _ := tfops.Zeros(tfops.Float, 0)
		outs = append(outs, r3)
	}
	return outs, nil
}
