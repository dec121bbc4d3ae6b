//go:build !(arm64 || amd64.v3)

package gemm

// fusedFMA: this build's compiler may round a float32 x*y before adding z,
// so kernelGo emulates one rounding (fma32).
const fusedFMA = false
