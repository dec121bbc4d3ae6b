package goengine

import "github.com/tfseg/tfseg/engine/goengine/internal/gemm"

// GEMMKernelNames lists the float32 GEMM micro-kernels this CPU and build
// run, fastest first, for the external tests.
func GEMMKernelNames() []string { return gemm.KernelNames() }

// UseGEMMKernel makes the named micro-kernel the active one and returns a
// function restoring the previous one: defer UseGEMMKernel("go")().
func UseGEMMKernel(name string) func() { return gemm.Use(name) }
