//go:build !amd64 || purego

package gemm

// archKernels returns no assembly micro-kernels: this build (another
// architecture, or the purego tag) runs kernelGo only.
func archKernels() []micro { return nil }

// archTile is microTile's argument block for assembly kernels: none here.
type archTile struct{}
