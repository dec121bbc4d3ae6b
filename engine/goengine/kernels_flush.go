package goengine

import (
	"math"

	"github.com/tfseg/tfseg/engine/goengine/internal/vec"
	"github.com/tfseg/tfseg/tfops"
)

// TensorFlow's CPU executor runs every kernel with the processor's
// flush-to-zero and denormals-are-zero modes on (port::ScopedFlushDenormal
// in executor.cc), for float32 and float64 alike: arithmetic reads a
// denormal input as a zero of the same sign and writes a denormal result
// as a signed zero. Data movement (copies, reshapes, gathers) keeps the
// bits. The Go engine reproduces this in its arithmetic kernels: inputs go
// through dazTensor, outputs through ftz; the vector kernels
// (internal/vec) do the same in every instruction.

// flushMode says how an elementwise kernel treats denormals.
type flushMode int

const (
	// flushArith: denormal inputs read as zeros, denormal results
	// flushed (ordinary floating-point arithmetic).
	flushArith flushMode = iota
	// flushOutput: inputs as they are (the function classifies its
	// arguments bit by bit, as libm's pow does), results flushed.
	flushOutput
	// flushNone: the function handles denormals itself (bitwise ops such
	// as Abs, and libm functions that return tiny arguments unchanged).
	flushNone
)

// flushModes lists the ops whose TensorFlow kernels treat denormals other
// than by flushArith, as measured against TensorFlow's CPU kernels.
var flushModes = map[string]flushMode{
	"Abs": flushNone, "Elu": flushNone, "Expm1": flushNone, "Log1p": flushNone,
	"FloorMod": flushNone, "Pow": flushOutput,
}

// out32 and flush32 are vec.Round32 and vec.Flush32 under the names the
// kernels use: a float64 result rounded to float32 with flush-to-zero, a
// denormal operand read as the zero of its sign.
func out32(v float64) float32   { return vec.Round32(v) }
func flush32(x float32) float32 { return vec.Flush32(x) }

// f32Bits and f32From are short names for the bit conversions.
func f32Bits(x float32) uint32 { return math.Float32bits(x) }
func f32From(b uint32) float32 { return math.Float32frombits(b) }

// fromF64 rounds a float64 result to T with flush-to-zero (out32 for
// float32).
func fromF64[T ~float32 | ~float64](v float64) T {
	var z T
	if _, ok := any(z).(float32); ok {
		return T(out32(v))
	}
	return T(flush64(v))
}

func isDenormal64(x float64) bool {
	b := math.Float64bits(x)
	return b&0x7ff0000000000000 == 0 && b&0x000fffffffffffff != 0
}

func flush64(x float64) float64 {
	if b := math.Float64bits(x); b&0x7ff0000000000000 == 0 {
		return math.Float64frombits(b & 0x8000000000000000)
	}
	return x
}

// dazTensor returns t, or a copy with denormals replaced by signed zeros
// when t is a float tensor holding any.
func dazTensor(t *tfops.Tensor) *tfops.Tensor {
	switch v := t.Data().(type) {
	case []float32:
		if !vec.HasDenormal(v) {
			return t
		}
		for i, x := range v {
			if vec.IsDenormal32(x) {
				w := append([]float32{}, v...)
				for j := i; j < len(w); j++ {
					w[j] = flush32(w[j])
				}
				out, _ := tfops.FromSlice(w, t.Shape()...)
				return out
			}
		}
	case []float64:
		for i, x := range v {
			if isDenormal64(x) {
				w := append([]float64{}, v...)
				for j := i; j < len(w); j++ {
					w[j] = flush64(w[j])
				}
				out, _ := tfops.FromSlice(w, t.Shape()...)
				return out
			}
		}
	}
	return t
}

// ftz flushes denormal results in place (no-op for non-float data).
// float32 data is first scanned with the vector vec.HasDenormal: results
// rarely hold a denormal, and the scalar pass cost more than the U-Net
// head's softmax it followed.
func ftz(data any) {
	switch v := data.(type) {
	case []float32:
		if !vec.HasDenormal(v) {
			return
		}
		for i, x := range v {
			if vec.IsDenormal32(x) {
				v[i] = flush32(x)
			}
		}
	case []float64:
		for i, x := range v {
			if isDenormal64(x) {
				v[i] = flush64(x)
			}
		}
	}
}
