//go:build amd64 && !purego

package vec

import "golang.org/x/sys/cpu"

// The Go declarations of the functions of simd_amd64.s and the kernel
// tables avx512Ops and avx2Ops are in vecops_amd64_gen.go.

// hasAVX512 reports whether the AVX-512 kernels can run: they use the F,
// DQ (VCVTQQ2PD, VFPCLASSPS, VEXTRACTF32X8) and VL (masked ymm moves)
// subsets. x/sys/cpu reports them only when the OS saves the registers.
var hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL

// hasAVX2 reports whether the AVX2 kernels can run (they need FMA too).
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// archKernels returns the fastest assembly kernels the CPU runs: AVX-512,
// else AVX2/FMA, else none.
func archKernels() *Kernels {
	if k := ArchSets(); len(k) > 0 {
		return k[0]
	}
	return nil
}

// ArchSets lists the assembly kernel sets this CPU runs, fastest
// first (tests check each against the Go kernels).
func ArchSets() []*Kernels {
	var ks []*Kernels
	if hasAVX512 {
		ks = append(ks, &avx512Kernels)
	}
	if hasAVX2 {
		ks = append(ks, &avx2Kernels)
	}
	return ks
}

var avx512Kernels = Kernels{
	Name:      "avx512",
	opKernels: avx512Ops,
	sumLanes: func(x []float32, lanes *[SumLaneCount]float64) {
		if len(x) == 0 {
			return
		}
		sumLanesAVX512(&x[0], len(x), lanes)
	},
	Prog:   runProgAVX512,
	Tiles:  runTilesAVX512,
	Chunks: runChunksAVX512,
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

// ternaryAsm adapts a kernel of three operands (clip) to slices.
func ternaryAsm(k func(dst, x, lo, hi *float32, n int)) func(dst, x, lo, hi []float32) {
	return func(dst, x, lo, hi []float32) {
		if len(dst) == 0 {
			return
		}
		_, _, _ = x[len(dst)-1], lo[len(dst)-1], hi[len(dst)-1]
		k(&dst[0], &x[0], &lo[0], &hi[0], len(dst))
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

var avx2Kernels = Kernels{
	Name:      "avx2",
	opKernels: avx2Ops,
	sumLanes: func(x []float32, lanes *[SumLaneCount]float64) {
		n := len(x) &^ (SumLaneCount - 1)
		if n > 0 {
			sumLanesAVX2(&x[0], n, lanes)
		}
		// n is a multiple of the lane count: the tail starts at lane 0.
		genericKernels.SumLanes(x[n:], lanes)
	},
	Chunks: runChunksAVX2,
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

// ternaryAsmTail adapts an AVX2 kernel of three operands like
// binaryAsmTail.
func ternaryAsmTail(k func(dst, x, lo, hi *float32, n int), tail func(dst, x, lo, hi []float32)) func(dst, x, lo, hi []float32) {
	return func(dst, x, lo, hi []float32) {
		n := len(dst) &^ 7
		if n > 0 {
			_, _, _ = x[n-1], lo[n-1], hi[n-1]
			k(&dst[0], &x[0], &lo[0], &hi[0], n)
		}
		tail(dst[n:], x[n:len(dst)], lo[n:len(dst)], hi[n:len(dst)])
	}
}
