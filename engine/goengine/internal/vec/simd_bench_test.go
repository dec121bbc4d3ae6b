package vec

import (
	"fmt"
	"testing"
)

// BenchmarkVecKernels times each vector kernel on a 1024-element chunk (L1
// resident, as fused regions use them) for each implementation.
func BenchmarkVecKernels(b *testing.B) {
	impls := append([]*Kernels{Generic()}, ArchSets()...)
	const n = 1024
	x, y := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(i+1) / n
		y[i] = 1 - x[i]/2
	}
	dst := make([]float32, n)
	for _, k := range impls {
		unary := map[string]func(dst, x []float32){"exp": k.exp, "log": k.log, "log1p": k.log1p, "sigmoid": k.sigmoid, "relu": k.relu}
		for _, name := range []string{"exp", "log", "log1p", "sigmoid", "relu"} {
			f := unary[name]
			b.Run(fmt.Sprintf("op=%s/impl=%s/size=%d", name, k.Name, n), func(b *testing.B) {
				b.SetBytes(8 * n)
				for b.Loop() {
					f(dst, x)
				}
			})
		}
		b.Run(fmt.Sprintf("op=mul/impl=%s/size=%d", k.Name, n), func(b *testing.B) {
			b.SetBytes(12 * n)
			for b.Loop() {
				k.mul(dst, x, y)
			}
		})
		b.Run(fmt.Sprintf("op=sumLanes/impl=%s/size=%d", k.Name, n), func(b *testing.B) {
			b.SetBytes(4 * n)
			var l [SumLaneCount]float64
			for b.Loop() {
				k.sumLanes(x, &l)
			}
		})
	}
}
