//go:build amd64

package main

import "golang.org/x/sys/cpu"

// fmaZMM runs iters iterations of 12 independent AVX-512 FMAs (384 FLOPs).
//
//go:noescape
func fmaZMM(iters int) float32

// fmaYMM runs iters iterations of 12 independent AVX2 FMAs (192 FLOPs).
//
//go:noescape
func fmaYMM(iters int) float32

// readYMM sums n float32 values (n a multiple of 32) with AVX loads.
//
//go:noescape
func readYMM(p *float32, n int) float32

// fmaKernels lists the FMA loops this CPU can run, widest first.
func fmaKernels() []fmaKernel {
	var ks []fmaKernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, fmaKernel{"avx512 fma (zmm)", 384, fmaZMM})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, fmaKernel{"avx2 fma (ymm)", 192, fmaYMM})
	}
	return append(ks, fmaKernel{"scalar math.FMA (Go, float64)", scalarFLOPs, fmaScalar})
}

// readKernel returns the fastest read-only streaming loop.
func readKernel() (string, func([]float32) float32) {
	if cpu.X86.HasAVX {
		return "avx loads (ymm)", func(s []float32) float32 {
			n := len(s) &^ 31
			if n == 0 {
				return 0
			}
			return readYMM(&s[0], n)
		}
	}
	return "Go loop", readGo
}
