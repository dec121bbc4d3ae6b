//go:build arm64 || amd64.v3

package gemm

// fusedFMA: on this architecture and level the compiler fuses a float32
// x*y + z into one multiply-add (FMADDS on arm64; VFMADD231SS on amd64 at
// GOAMD64=v3 and above), which rounds once, as fma32 does.
const fusedFMA = true
