package gemm

import "fmt"

// KernelNames lists the micro-kernels this CPU and build run, fastest
// first ("avx512", "avx512x28" (its 28×16 tiles only), "avx2", "go");
// tests run the convolution goldens on each.
func KernelNames() []string {
	names := make([]string, len(kernels))
	for i, k := range kernels {
		names[i] = k.name
	}
	return names
}

// Use makes the named micro-kernel the active one and returns a function
// restoring the previous one: defer gemm.Use("go")(). It panics on an
// unknown name.
func Use(name string) (restore func()) {
	for i := range kernels {
		if kernels[i].name == name {
			prev := active.Swap(&kernels[i])
			return func() { active.Store(prev) }
		}
	}
	panic(fmt.Sprintf("no GEMM kernel %q (have %v)", name, KernelNames()))
}
