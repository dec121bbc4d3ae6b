package gemm

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// convShape is one valid stride-1 convolution (k×k, cin → cout) on an
// h×w input, or, with transposed, a 2x2 stride-2 transposed convolution
// (a plain GEMM of h·w rows, k = cin, n = 4·cout).
type convShape struct {
	name             string
	h, w, k, cin, co int
	transposed       bool
}

// unetShapes are the convolutions of the Keras U-Net fixture
// (bench/unet_test.go's unetLayers) at 1x572x572x1, in execution order,
// then three larger-channel shapes of the classic U-Net (Ronneberger et
// al.), whose rows are 1-4 KiB apart.
var unetShapes = []convShape{
	{"1to16@572", 572, 572, 3, 1, 16, false},
	{"16to16@570", 570, 570, 3, 16, 16, false},
	{"16to32@284", 284, 284, 3, 16, 32, false},
	{"32to32@282", 282, 282, 3, 32, 32, false},
	{"32to64@140", 140, 140, 3, 32, 64, false},
	{"64to64@138", 138, 138, 3, 64, 64, false},
	{"T64to32@136", 136, 136, 2, 64, 32, true},
	{"64to32@272", 272, 272, 3, 64, 32, false},
	{"32to32@270", 270, 270, 3, 32, 32, false},
	{"T32to16@268", 268, 268, 2, 32, 16, true},
	{"32to16@536", 536, 536, 3, 32, 16, false},
	{"16to16@534", 534, 534, 3, 16, 16, false},
	{"1x1:16to2@532", 532, 532, 1, 16, 2, false},
	// Larger channel counts, not in the fixture.
	{"256to256@66", 66, 66, 3, 256, 256, false},
	{"512to512@34", 34, 34, 3, 512, 512, false},
	{"1024to1024@30", 30, 30, 3, 1024, 1024, false},
}

// fixtureShapes is the number of unetShapes that are the fixture's.
const fixtureShapes = 13

// job returns the GEMM of s as the Go engine's convolutions build it
// (engine/goengine/conv.go): A read in place with virtual rows of the
// input width, or, transposed, the input pixels scattered 2x2.
func (s convShape) job(rng *rand.Rand) (Job, *Panels, []float32, float64) {
	x := randFloats(rng, s.h*s.w*s.cin)
	if s.transposed {
		n := 4 * s.co
		pb := PackPanels(randFloats(rng, s.cin*n), s.cin, n, n, 1)
		m := s.h * s.w
		j := Job{A: x, LDA: s.cin, KH: 1, KA: s.cin, M: m, Rows: DenseRows(m, n)}
		return j, pb, make([]float32, m*n), 2 * float64(m) * float64(s.cin) * float64(n)
	}
	k := s.k * s.k * s.cin
	pb := PackPanels(randFloats(rng, k*s.co), k, s.co, s.co, 1)
	oh, ow := s.h-s.k+1, s.w-s.k+1
	j := Job{A: x, LDA: s.cin, LDT: s.w * s.cin, KH: s.k, KA: s.k * s.cin, M: (oh-1)*s.w + ow,
		Rows: RowMap{Width: s.w, Valid: ow, RowStride: ow * s.co, PixStride: s.co}}
	return j, pb, make([]float32, oh*ow*s.co), 2 * float64(oh*ow) * float64(k) * float64(s.co)
}

// BenchmarkGEMMConvLayers runs one convolution-shaped GEMM per U-Net layer
// shape with each assembly kernel, on 1 and 2 threads, and reports
// GFLOP/s.
func BenchmarkGEMMConvLayers(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	for _, s := range unetShapes {
		j, pb, c, flops := s.job(rng)
		pb.Relu = true
		for _, mk := range kernels {
			if mk.name == "go" {
				continue
			}
			for _, th := range []int{1, 2} {
				b.Run(fmt.Sprintf("shape=%s/kernel=%s/threads=%d", s.name, mk.name, th), func(b *testing.B) {
					for b.Loop() {
						runWith(mk, []Job{j}, pb, c, th, false)
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkGEMMConvLayersAlternating times every shape of unetShapes with
// every assembly kernel in turn (which goes first rotates), one GEMM each
// per iteration, so that the kernels see the same machine (other processes come and go on a shared
// one), and keeps each one's fastest run. It logs a table of GFLOP/s per
// shape and kernel and reports, per kernel, the sum of the fastest times
// of the fixture's shapes (the U-Net's GEMM time at 1x572x572x1).
func BenchmarkGEMMConvLayersAlternating(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	type layer struct {
		j     Job
		pb    *Panels
		c     []float32
		flops float64
	}
	var layers []layer
	for _, s := range unetShapes {
		j, pb, c, flops := s.job(rng)
		pb.Relu = true
		layers = append(layers, layer{j, pb, c, flops})
	}
	var mks []micro
	for _, mk := range kernels {
		if mk.name != "go" {
			mks = append(mks, mk)
		}
	}
	for _, th := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", th), func(b *testing.B) {
			best := make([][]time.Duration, len(layers))
			for i := range best {
				best[i] = make([]time.Duration, len(mks))
			}
			for iter := 0; b.Loop(); iter++ {
				for i, l := range layers {
					// Each kernel in turn goes first (on the caches the
					// previous shape left).
					for kk := range mks {
						k := (kk + iter) % len(mks)
						mk := mks[k]
						t0 := time.Now()
						runWith(mk, []Job{l.j}, l.pb, l.c, th, false)
						if d := time.Since(t0); best[i][k] == 0 || d < best[i][k] {
							best[i][k] = d
						}
					}
				}
			}
			var tab strings.Builder
			fmt.Fprintf(&tab, "%-16s", "GFLOP/s")
			for _, mk := range mks {
				fmt.Fprintf(&tab, " %10s", mk.name)
			}
			total := make([]time.Duration, len(mks))
			for i, l := range layers {
				fmt.Fprintf(&tab, "\n%-16s", unetShapes[i].name)
				for k := range mks {
					fmt.Fprintf(&tab, " %10.1f", l.flops/best[i][k].Seconds()/1e9)
					if i < fixtureShapes {
						total[k] += best[i][k]
					}
				}
			}
			b.Log("fastest run of each (shape, kernel):\n" + tab.String())
			for k, mk := range mks {
				b.ReportMetric(total[k].Seconds()*1e3, "ms-"+mk.name)
			}
		})
	}
}
