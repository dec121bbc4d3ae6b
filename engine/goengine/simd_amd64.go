//go:build amd64 && !purego

package goengine

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

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

// copyAVX512 copies the bits of x (the runner's copy). The runners'
// assembly calls it; this declaration is for the assembler's argument checks.
//
//lint:ignore U1000 called from assembly (simd_amd64.s), not from Go
//go:noescape
func copyAVX512(dst, x *float32, n int)

// copyAVX2 copies the bits of x (runChunksAVX2's copy), called from
// assembly as copyAVX512 is.
//
//lint:ignore U1000 called from assembly (simd_amd64.s), not from Go
//go:noescape
func copyAVX2(dst, x *float32, n int)

// runChunksAVX2 is runChunksAVX512 with the AVX2 kernels and no tile
// blocks; n must be a multiple of 32 (the AVX2 kernels leave tails to Go).
//
//go:noescape
func runChunksAVX2(code *int32, ninstr int, ptrs *unsafe.Pointer, n, nchunks int, steps *int64, ntab int, pf *int32, npf, pfBytes int)

// runProgAVX512 runs ninstr instructions of code on n elements (see
// vecKernels.prog): the AVX-512 kernels above, inlined, under one MXCSR
// change.
//
//go:noescape
func runProgAVX512(code *int32, ninstr int, ptrs *unsafe.Pointer, n int)

// runTilesAVX512 runs ninstr tile instructions on ntiles tiles (see
// vecKernels.tiles).
//
//go:noescape
func runTilesAVX512(code *int32, ninstr int, ptrs *unsafe.Pointer, ntiles int)

// runChunksAVX512 runs runner code with tile blocks on nchunks chunks (see
// vecKernels.chunks).
//
//go:noescape
func runChunksAVX512(code *int32, ninstr int, ptrs *unsafe.Pointer, n, nchunks int, steps *int64, ntab int, pf *int32, npf, pfBytes int)

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

// The AVX2/FMA kernels process n rounded down to a multiple of 8 (16 for
// sumLanesAVX2); see avx2Kernels for the tails.

//go:noescape
func addAVX2(dst, a, b *float32, n int)

//go:noescape
func subAVX2(dst, a, b *float32, n int)

//go:noescape
func mulAVX2(dst, a, b *float32, n int)

//go:noescape
func divAVX2(dst, a, b *float32, n int)

//go:noescape
func divNoNanAVX2(dst, a, b *float32, n int)

//go:noescape
func maxAVX2(dst, a, b *float32, n int)

//go:noescape
func minAVX2(dst, a, b *float32, n int)

//go:noescape
func negAVX2(dst, x *float32, n int)

//go:noescape
func absAVX2(dst, x *float32, n int)

//go:noescape
func reluAVX2(dst, x *float32, n int)

//go:noescape
func flushAVX2(dst, x *float32, n int)

//go:noescape
func clipAVX2(dst, x, lo, hi *float32, n int)

//go:noescape
func expAVX2(dst, x *float32, n int)

//go:noescape
func logAVX2(dst, x *float32, n int)

//go:noescape
func log1pAVX2(dst, x *float32, n int)

//go:noescape
func sigmoidAVX2(dst, x *float32, n int)

//go:noescape
func sumLanesAVX2(x *float32, n int, lanes *[sumLaneCount]float64)

// hasAVX512 reports whether the AVX-512 kernels can run: they use the F,
// DQ (VCVTQQ2PD, VFPCLASSPS, VEXTRACTF32X8) and VL (masked ymm moves)
// subsets. x/sys/cpu reports them only when the OS saves the registers.
var hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL

// hasAVX2 reports whether the AVX2 kernels can run (they need FMA too).
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// archVecKernels returns the fastest assembly kernels the CPU runs: AVX-512,
// else AVX2/FMA, else none.
func archVecKernels() *vecKernels {
	if k := archKernelSets(); len(k) > 0 {
		return k[0]
	}
	return nil
}

// archKernelSets lists the assembly kernel sets this CPU runs, fastest
// first (tests check each against the Go kernels).
func archKernelSets() []*vecKernels {
	var ks []*vecKernels
	if hasAVX512 {
		ks = append(ks, &avx512Kernels)
	}
	if hasAVX2 {
		ks = append(ks, &avx2Kernels)
	}
	return ks
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
	prog:   runProgAVX512,
	tiles:  runTilesAVX512,
	chunks: runChunksAVX512,
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

var avx2Kernels = vecKernels{
	name:     "avx2",
	add:      binaryAsmTail(addAVX2, genericKernels.add),
	sub:      binaryAsmTail(subAVX2, genericKernels.sub),
	mul:      binaryAsmTail(mulAVX2, genericKernels.mul),
	div:      binaryAsmTail(divAVX2, genericKernels.div),
	divNoNan: binaryAsmTail(divNoNanAVX2, genericKernels.divNoNan),
	max:      binaryAsmTail(maxAVX2, genericKernels.max),
	min:      binaryAsmTail(minAVX2, genericKernels.min),
	neg:      unaryAsmTail(negAVX2, genericKernels.neg),
	abs:      unaryAsmTail(absAVX2, genericKernels.abs),
	relu:     unaryAsmTail(reluAVX2, genericKernels.relu),
	flush:    unaryAsmTail(flushAVX2, genericKernels.flush),
	exp:      unaryAsmTail(expAVX2, genericKernels.exp),
	log:      unaryAsmTail(logAVX2, genericKernels.log),
	log1p:    unaryAsmTail(log1pAVX2, genericKernels.log1p),
	sigmoid:  unaryAsmTail(sigmoidAVX2, genericKernels.sigmoid),
	clip: func(dst, x, lo, hi []float32) {
		n := len(dst) &^ 7
		if n > 0 {
			_, _, _ = x[n-1], lo[n-1], hi[n-1]
			clipAVX2(&dst[0], &x[0], &lo[0], &hi[0], n)
		}
		genericKernels.clip(dst[n:], x[n:len(dst)], lo[n:len(dst)], hi[n:len(dst)])
	},
	sumLanes: func(x []float32, lanes *[sumLaneCount]float64) {
		n := len(x) &^ (sumLaneCount - 1)
		if n > 0 {
			sumLanesAVX2(&x[0], n, lanes)
		}
		// n is a multiple of the lane count: the tail starts at lane 0.
		genericKernels.sumLanes(x[n:], lanes)
	},
	chunks: runChunksAVX2,
}

// binaryAsmTail adapts an AVX2 binary kernel: the assembly takes the
// multiple of 8 elements, tail the rest.
func binaryAsmTail(k func(dst, a, b *float32, n int), tail func(dst, a, b []float32)) func(dst, a, b []float32) {
	return func(dst, a, b []float32) {
		n := len(dst) &^ 7
		if n > 0 {
			_, _ = a[n-1], b[n-1]
			k(&dst[0], &a[0], &b[0], n)
		}
		tail(dst[n:], a[n:len(dst)], b[n:len(dst)])
	}
}

// unaryAsmTail adapts an AVX2 unary kernel like binaryAsmTail.
func unaryAsmTail(k func(dst, x *float32, n int), tail func(dst, x []float32)) func(dst, x []float32) {
	return func(dst, x []float32) {
		n := len(dst) &^ 7
		if n > 0 {
			_ = x[n-1]
			k(&dst[0], &x[0], n)
		}
		tail(dst[n:], x[n:len(dst)])
	}
}
