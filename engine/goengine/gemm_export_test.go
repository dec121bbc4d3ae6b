package goengine

import "fmt"

// GEMMKernelNames lists the float32 GEMM micro-kernels this CPU and build
// run, fastest first ("avx512", "avx2", "go"); tests run the convolution
// goldens on each.
func GEMMKernelNames() []string {
	names := make([]string, len(gemmKernels))
	for i, k := range gemmKernels {
		names[i] = k.name
	}
	return names
}

// UseGEMMKernel makes the named micro-kernel the active one and returns a
// function restoring the previous one: defer UseGEMMKernel("go")().
func UseGEMMKernel(name string) func() {
	for i := range gemmKernels {
		if gemmKernels[i].name == name {
			prev := gemmActive.Swap(&gemmKernels[i])
			return func() { gemmActive.Store(prev) }
		}
	}
	panic(fmt.Sprintf("no GEMM kernel %q (have %v)", name, GEMMKernelNames()))
}
