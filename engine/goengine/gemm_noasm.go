//go:build !amd64 || purego

package goengine

// archKernels returns no assembly micro-kernels: this build (another
// architecture, or the purego tag) runs gemmKernelGo only.
func archKernels() []gemmMicro { return nil }
