package goengine

import (
	"math"
)

// Elementwise kernels of the Keras activations and tf.math functions that
// kernels_math.go lacks: Erf and Erfc (Keras gelu with approximate=False),
// Selu, Softplus (and Keras mish), Softsign, Sin and Cos.
//
// float32 values are computed in float64 with Go's math package and rounded
// once (flush-to-zero as TensorFlow's executor runs kernels). TensorFlow's
// op definitions: tensorflow/core/ops/math_ops.cc (Erf, Erfc, Sin, Cos:
// UnaryOp) and nn_ops.cc (Selu, Softplus, Softsign: features -> activations).

func init() {
	// tensorflow/core/kernels/cwise_op_erf.cc, cwise_op_erfc.cc: Eigen's
	// erf/erfc; Go's math.Erf/Erfc are correctly rounded in float64.
	regUnary("Erf", grainHeavy, viaF64[float32](math.Erf), math.Erf, nil, nil)
	regUnary("Erfc", grainHeavy, viaF64[float32](math.Erfc), math.Erfc, nil, nil)
	regUnary("Sin", grainHeavy, viaF64[float32](math.Sin), math.Sin, nil, nil)
	regUnary("Cos", grainHeavy, viaF64[float32](math.Cos), math.Cos, nil, nil)
	regUnary("Selu", grainHeavy, selu32, selu64, nil, nil)
	regUnary("Softplus", grainHeavy, softplus32, softplus64, nil, nil)
	regUnary("Softsign", grainCheap, softsign32, softsign64, nil, nil)
}

// SELU constants of tensorflow/core/kernels/relu_op_functor.h (Selu):
// scale and scale·alpha, rounded to the dtype.
const (
	seluScale      = 1.0507009873554804934193349852946
	seluScaleAlpha = 1.7580993408473768599402175208123
)

// selu32 is TensorFlow's Selu functor evaluated as Eigen does in float32:
//
//	x < 0 ? scale_alpha * (exp(x) - 1) : scale * x
//
// with every intermediate rounded to float32 (exp(x) - 1, not expm1).
func selu32(x float32) float32 {
	if x < 0 {
		e := out32(math.Exp(float64(x)))
		return out32(float64(float32(seluScaleAlpha)) * float64(out32(float64(e)-1)))
	}
	return out32(float64(float32(seluScale)) * float64(x))
}

func selu64(x float64) float64 {
	if x < 0 {
		return flush64(seluScaleAlpha * flush64(flush64(math.Exp(x))-1))
	}
	return flush64(seluScale * x)
}

// softplusThreshold is log(epsilon) + 2 for the dtype, as
// tensorflow/core/kernels/softplus_op.h chooses it.
var (
	softplusThreshold32 = math.Log(0x1p-23) + 2
	softplusThreshold64 = math.Log(0x1p-52) + 2
)

// softplusRef is TensorFlow's Softplus functor (softplus_op.h):
//
//	x > -threshold ? x : (x < threshold ? exp(x) : log1p(exp(x)))
//
// with threshold = log(epsilon) + 2 of the dtype.
func softplusRef(x, threshold float64) float64 {
	switch {
	case x > -threshold:
		return x
	case x < threshold:
		return math.Exp(x)
	}
	return math.Log1p(math.Exp(x))
}

func softplus32(x float32) float32 {
	return out32(softplusRef(float64(x), float64(float32(softplusThreshold32))))
}

func softplus64(x float64) float64 { return flush64(softplusRef(x, softplusThreshold64)) }

// softsign is x / (1 + |x|) (tensorflow/core/kernels/softsign_op.h), the
// denominator rounded to the dtype as Eigen evaluates it.
func softsign32(x float32) float32 {
	d := float32(math.Abs(float64(x))) + 1
	return out32(float64(x) / float64(d))
}

func softsign64(x float64) float64 { return flush64(x / (math.Abs(x) + 1)) }
