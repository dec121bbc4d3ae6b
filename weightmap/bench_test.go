package weightmap

import (
	"fmt"
	"testing"
)

// BenchmarkWeightmap times UNet on the mask scripts/bench_weightmap_scipy.py
// times SciPy on: 50 separate discs (radius 8..40, seed 1) in 1024×1024.
func BenchmarkWeightmap(b *testing.B) {
	for _, c := range []struct{ h, w, objects int }{{1024, 1024, 50}, {256, 256, 10}} {
		mask := lcgDiscs(c.h, c.w, c.objects, 8, 40, 1)
		b.Run(fmt.Sprintf("size=%dx%d/objects=%d", c.h, c.w, c.objects), func(b *testing.B) {
			b.SetBytes(int64(len(mask)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := UNet(mask, c.h, c.w, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEDT times one exact distance transform of the same 1024×1024 mask.
func BenchmarkEDT(b *testing.B) {
	const h, w = 1024, 1024
	mask := lcgDiscs(h, w, 50, 8, 40, 1)
	b.Run(fmt.Sprintf("size=%dx%d", h, w), func(b *testing.B) {
		b.SetBytes(int64(len(mask)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := EDT(mask, []int{h, w}, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLabel times 4-connected labeling of the same 1024×1024 mask.
func BenchmarkLabel(b *testing.B) {
	const h, w = 1024, 1024
	mask := lcgDiscs(h, w, 50, 8, 40, 1)
	b.Run(fmt.Sprintf("size=%dx%d", h, w), func(b *testing.B) {
		b.SetBytes(int64(len(mask)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := Label(mask, h, w, Conn4); err != nil {
				b.Fatal(err)
			}
		}
	})
}
