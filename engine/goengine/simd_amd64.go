//go:build amd64 && !purego

package goengine

import "golang.org/x/sys/cpu"

//go:generate go run simd_gen.go

// The AVX-512 kernels of simd_amd64.s (written by simd_gen.go). Each
// computes n elements; see simd_generic.go for what.

//go:noescape
func addAVX512(dst, a, b *float32, n int)

//go:noescape
func subAVX512(dst, a, b *float32, n int)

//go:noescape
func mulAVX512(dst, a, b *float32, n int)

//go:noescape
func divAVX512(dst, a, b *float32, n int)

//go:noescape
func divNoNanAVX512(dst, a, b *float32, n int)

//go:noescape
func maxAVX512(dst, a, b *float32, n int)

//go:noescape
func minAVX512(dst, a, b *float32, n int)

//go:noescape
func negAVX512(dst, x *float32, n int)

//go:noescape
func absAVX512(dst, x *float32, n int)

//go:noescape
func reluAVX512(dst, x *float32, n int)

//go:noescape
func flushAVX512(dst, x *float32, n int)

//go:noescape
func clipAVX512(dst, x, lo, hi *float32, n int)

//go:noescape
func expAVX512(dst, x *float32, n int)

//go:noescape
func logAVX512(dst, x *float32, n int)

//go:noescape
func log1pAVX512(dst, x *float32, n int)

//go:noescape
func sigmoidAVX512(dst, x *float32, n int)

//go:noescape
func sumLanesAVX512(x *float32, n int, lanes *[sumLaneCount]float64)

// hasAVX512 reports whether the AVX-512 kernels can run: they use the F,
// DQ (VCVTQQ2PD, VFPCLASSPS, VEXTRACTF32X8) and VL (masked ymm moves)
// subsets. x/sys/cpu reports them only when the OS saves the registers.
var hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL

// archVecKernels returns the AVX-512 kernels when the CPU has them.
func archVecKernels() *vecKernels {
	if !hasAVX512 {
		return nil
	}
	return &avx512Kernels
}

var avx512Kernels = vecKernels{
	name:     "avx512",
	add:      binaryAsm(addAVX512),
	sub:      binaryAsm(subAVX512),
	mul:      binaryAsm(mulAVX512),
	div:      binaryAsm(divAVX512),
	divNoNan: binaryAsm(divNoNanAVX512),
	max:      binaryAsm(maxAVX512),
	min:      binaryAsm(minAVX512),
	neg:      unaryAsm(negAVX512),
	abs:      unaryAsm(absAVX512),
	relu:     unaryAsm(reluAVX512),
	flush:    unaryAsm(flushAVX512),
	exp:      unaryAsm(expAVX512),
	log:      unaryAsm(logAVX512),
	log1p:    unaryAsm(log1pAVX512),
	sigmoid:  unaryAsm(sigmoidAVX512),
	clip: func(dst, x, lo, hi []float32) {
		if len(dst) == 0 {
			return
		}
		_, _, _ = x[len(dst)-1], lo[len(dst)-1], hi[len(dst)-1]
		clipAVX512(&dst[0], &x[0], &lo[0], &hi[0], len(dst))
	},
	sumLanes: func(x []float32, lanes *[sumLaneCount]float64) {
		if len(x) == 0 {
			return
		}
		sumLanesAVX512(&x[0], len(x), lanes)
	},
}

// binaryAsm adapts a binary kernel to slices (bounds checked here).
func binaryAsm(k func(dst, a, b *float32, n int)) func(dst, a, b []float32) {
	return func(dst, a, b []float32) {
		if len(dst) == 0 {
			return
		}
		_, _ = a[len(dst)-1], b[len(dst)-1]
		k(&dst[0], &a[0], &b[0], len(dst))
	}
}

// unaryAsm adapts a unary kernel to slices.
func unaryAsm(k func(dst, x *float32, n int)) func(dst, x []float32) {
	return func(dst, x []float32) {
		if len(dst) == 0 {
			return
		}
		_ = x[len(dst)-1]
		k(&dst[0], &x[0], len(dst))
	}
}
