//go:build amd64 && !purego

package goengine

import "golang.org/x/sys/cpu"

// sgemmAVX512 is the 28×16 AVX-512F micro-kernel (gemm_amd64.s, written by
// gemm_gen.go); see gemmMicro for what it computes. lda and ldt are in
// elements; accumulate is 0 or 1.
//
//go:noescape
func sgemmAVX512(a *float32, lda, ldt, kh, ka int, b, c *float32, coff *int, ncols, accumulate int)

// sgemmAVX2 is the 6×16 AVX2/FMA micro-kernel, with sgemmAVX512's arguments.
//
//go:noescape
func sgemmAVX2(a *float32, lda, ldt, kh, ka int, b, c *float32, coff *int, ncols, accumulate int)

// archKernels returns the assembly micro-kernels this CPU supports, fastest
// first. x/sys/cpu reports AVX-512 and AVX only when the OS saves their
// registers.
func archKernels() []gemmMicro {
	var ks []gemmMicro
	if cpu.X86.HasAVX512F {
		ks = append(ks, gemmMicro{name: "avx512", mr: 28, run: asmRun(sgemmAVX512)})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, gemmMicro{name: "avx2", mr: 6, run: asmRun(sgemmAVX2)})
	}
	return ks
}

// asmRun adapts an assembly kernel to gemmMicro.run; the caller has checked
// the bounds, and mr is the kernel's own tile height.
func asmRun(k func(a *float32, lda, ldt, kh, ka int, b, c *float32, coff *int, ncols, accumulate int)) func(int, []float32, int, int, int, int, []float32, []float32, []int, int, bool) {
	return func(_ int, a []float32, lda, ldt, kh, ka int, b, c []float32, coff []int, ncols int, accumulate bool) {
		acc := 0
		if accumulate {
			acc = 1
		}
		k(&a[0], lda, ldt, kh, ka, &b[0], &c[0], &coff[0], ncols, acc)
	}
}
