//go:build !amd64

package main

// fmaKernels lists the FMA loops this CPU can run: without amd64 assembly,
// the scalar Go loop only.
func fmaKernels() []fmaKernel {
	return []fmaKernel{{"scalar math.FMA (Go, float64)", scalarFLOPs, fmaScalar}}
}

// readKernel returns the read-only streaming loop: the Go one.
func readKernel() (string, func([]float32) float32) { return "Go loop", readGo }
