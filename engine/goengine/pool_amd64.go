//go:build amd64 && !purego

package goengine

import "golang.org/x/sys/cpu"

// maxPoolRowKernels lists the assembly 2x2 max-pool row kernels this CPU
// runs, fastest first (pool_amd64.s): AVX-512F (x/sys/cpu reports it only
// when the OS saves the registers), then AVX2.
// maxPoolRowF32 is the first, the one maxPool2x2 uses.
var maxPoolRowKernels = func() []maxPoolRowKernel {
	var ks []maxPoolRowKernel
	if cpu.X86.HasAVX512F {
		ks = append(ks, maxPoolRowKernel{"avx512", asmMaxPoolRow(maxPoolRowAVX512)})
	}
	if cpu.X86.HasAVX2 {
		ks = append(ks, maxPoolRowKernel{"avx2", asmMaxPoolRow(maxPoolRowAVX2)})
	}
	return ks
}()

var maxPoolRowF32 = func() func(dst, top, bot []float32, ow, c int) {
	if len(maxPoolRowKernels) > 0 {
		return maxPoolRowKernels[0].run
	}
	return nil
}()

// asmMaxPoolRow adapts an assembly row kernel to slices, bounds checked
// here: top and bot hold 2*ow pixels of c channels, dst ow pixels.
func asmMaxPoolRow(k func(dst, top, bot *float32, ow, c int)) func(dst, top, bot []float32, ow, c int) {
	return func(dst, top, bot []float32, ow, c int) {
		if ow == 0 || c == 0 {
			return
		}
		_, _, _ = dst[ow*c-1], top[2*ow*c-1], bot[2*ow*c-1]
		k(&dst[0], &top[0], &bot[0], ow, c)
	}
}

// maxPoolRowAVX512 and maxPoolRowAVX2 compute, for j < ow and q < c,
// dst[j*c+q] = max(max(max(top[2jc+q], top[2jc+c+q]), bot[2jc+q]),
// bot[2jc+c+q]) with Go's max (see pool_amd64.s for the instruction
// sequence), 16 or 8 channels a vector and a masked tail.
//
//go:noescape
func maxPoolRowAVX512(dst, top, bot *float32, ow, c int)

//go:noescape
func maxPoolRowAVX2(dst, top, bot *float32, ow, c int)
