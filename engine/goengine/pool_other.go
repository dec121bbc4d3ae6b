//go:build !amd64 || purego

package goengine

// This build (another architecture, or the purego tag) has no assembly
// max-pool row kernel: maxPool2x2 runs its Go loop.
var maxPoolRowKernels []maxPoolRowKernel

var maxPoolRowF32 func(dst, top, bot []float32, ow, c int)
