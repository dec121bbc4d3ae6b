//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// sgemmAVX512 is the 28×16 AVX-512F micro-kernel (gemm_amd64.s, written by
// gemm_gen.go); see micro for what it computes. lda and ldt are in
// elements; bias is nil or 16 values.
//
//go:noescape
func sgemmAVX512(a *float32, lda, ldt, kh, ka int, b, c *float32, coff *int, ncols, flags int, bias *float32)

// sgemmAVX2 is the 6×16 AVX2/FMA micro-kernel, with sgemmAVX512's arguments.
//
//go:noescape
func sgemmAVX2(a *float32, lda, ldt, kh, ka int, b, c *float32, coff *int, ncols, flags int, bias *float32)

// archKernels returns the assembly micro-kernels this CPU supports, fastest
// first. x/sys/cpu reports AVX-512 and AVX only when the OS saves their
// registers.
func archKernels() []micro {
	var ks []micro
	if cpu.X86.HasAVX512F {
		ks = append(ks, micro{name: "avx512", mr: 28, run: asmRun(sgemmAVX512)})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, micro{name: "avx2", mr: 6, run: asmRun(sgemmAVX2)})
	}
	return ks
}

// asmRun adapts an assembly kernel to micro.run; the caller has checked
// the bounds, and t.mr is the kernel's own tile height.
func asmRun(k func(a *float32, lda, ldt, kh, ka int, b, c *float32, coff *int, ncols, flags int, bias *float32)) func(*microTile) {
	return func(t *microTile) {
		var bias *float32
		if t.bias != nil {
			bias = &t.bias[:NR][0]
		}
		k(&t.a[0], t.lda, t.ldt, t.kh, t.ka, &t.b[0], &t.c[0], &t.coff[0], t.ncols, t.flags, bias)
	}
}
