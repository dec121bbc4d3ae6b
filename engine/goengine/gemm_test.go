package goengine

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

// gemmRef is gemmMicro's definition in float64: C[coff[i] + j] (+)=
// act(Σ_t Σ_p a[t·ldt + i·lda + p]·b[(t·ka+p)·16 + j] + bias[j]). It also
// returns, per element, Σ |terms|, the scale of the float32 rounding error.
func gemmRef(t *gemmTile, c []float64) (scale []float64) {
	scale = make([]float64, len(c))
	for i := 0; i < t.mr; i++ {
		if t.coff[i] < 0 {
			continue
		}
		for j := 0; j < t.ncols; j++ {
			s, abs := 0.0, 0.0
			for u := 0; u < t.kh; u++ {
				for p := 0; p < t.ka; p++ {
					v := float64(t.a[u*t.ldt+i*t.lda+p]) * float64(t.b[(u*t.ka+p)*gemmNR+j])
					s += v
					abs += math.Abs(v)
				}
			}
			if t.bias != nil {
				s += float64(t.bias[j])
				abs += math.Abs(float64(t.bias[j]))
			}
			if t.flags&gemmRelu != 0 && s < 0 {
				s = 0
			}
			o := t.coff[i] + j
			if t.flags&gemmAccumulate != 0 {
				abs += math.Abs(c[o])
				s += c[o]
			}
			c[o], scale[o] = s, abs
		}
	}
	return scale
}

func randFloats(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// requireNear compares got with want element by element, within
// 1e-6·scale (float32 sums of terms whose magnitudes add up to scale).
func requireNear(t *testing.T, want []float64, scale []float64, got []float32, what string) {
	t.Helper()
	for i := range want {
		if d := math.Abs(float64(got[i]) - want[i]); d > 1e-6*(scale[i]+1e-30) && d > 0 {
			t.Fatalf("%s: element %d is %v, want %v (off by %g, term scale %g)", what, i, got[i], want[i], d, scale[i])
		}
	}
}

func TestGEMMMicroKernels(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, mk := range gemmKernels {
		t.Run(mk.name, func(t *testing.T) {
			for it := 0; it < 200; it++ {
				mr := mk.mr
				if mk.name == "go" {
					mr = 1 + rng.Intn(mk.mr)
				}
				kh, ka := 1+rng.Intn(3), rng.Intn(40)
				if ka == 0 {
					ka = 1
				}
				lda := ka + rng.Intn(5) - 2 // rows may overlap, as convolution rows do
				lda = max(lda, 1)
				ldt := mr*lda + rng.Intn(7)
				if rng.Intn(4) == 0 {
					ldt = rng.Intn(ka + 1) // blocks may overlap too
				}
				a := randFloats(rng, (mr-1)*lda+(kh-1)*ldt+ka)
				b := randFloats(rng, kh*ka*gemmNR)
				ncols := 1 + rng.Intn(gemmNR)
				if rng.Intn(2) == 0 {
					ncols = gemmNR
				}
				// Rows go to distinct places of a larger C, some nowhere.
				ldc := gemmNR + rng.Intn(5)
				perm := rng.Perm(mr + 3)
				coff := make([]int, mr)
				for i := range coff {
					coff[i] = perm[i] * ldc
					if rng.Intn(6) == 0 {
						coff[i] = -1
					}
				}
				c := randFloats(rng, (mr+3)*ldc)
				want := make([]float64, len(c))
				for i, v := range c {
					want[i] = float64(v)
				}
				tile := &gemmTile{mr: mr, a: a, lda: lda, ldt: ldt, kh: kh, ka: ka, b: b, c: c, coff: coff, ncols: ncols, flags: rng.Intn(4)}
				if rng.Intn(2) == 0 {
					tile.bias = randFloats(rng, gemmNR)
				}
				scale := gemmRef(tile, want)
				mk.run(tile)
				acc := tile.flags
				requireNear(t, want, scale, c, fmt.Sprintf("case %d (mr %d, kh %d, ka %d, lda %d, ldt %d, ncols %d, flags %d, bias %v)", it, mr, kh, ka, lda, ldt, ncols, acc, tile.bias != nil))
			}
		})
	}
}

// TestGEMMJobs runs the tiled driver on jobs of every shape (fewer rows than
// a tile, tails, virtual rows that are not stored, packed A, scattered
// column panels, zero k) with each micro-kernel, against gemmRef.
func TestGEMMJobs(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for _, mk := range gemmKernels {
		t.Run(mk.name, func(t *testing.T) {
			for it := 0; it < 60; it++ {
				kh, ka := 1+rng.Intn(3), rng.Intn(30)
				k := kh * ka
				npanel := 1 + rng.Intn(3)
				// Panels land at scattered, non-overlapping column offsets.
				pb := newPanels(k, npanel)
				width := 0
				for p := range pb.ncols {
					pb.ncols[p] = 1 + rng.Intn(gemmNR)
					pb.colOff[p] = width + rng.Intn(3)
					width = pb.colOff[p] + pb.ncols[p]
				}
				pb.data = randFloats(rng, len(pb.data))
				if rng.Intn(2) == 0 {
					pb.bias = randFloats(rng, npanel*gemmNR)
				}
				pb.relu = rng.Intn(2) == 0
				lda := max(1, ka+rng.Intn(3)-1)
				var jobs []gemmJob
				var size int
				var a []float32
				aLen := 0
				for jn := rng.Intn(3) + 1; jn > 0; jn-- {
					m := rng.Intn(3 * mk.mr)
					rows := denseRows(m, width)
					if rng.Intn(2) == 0 {
						w := 1 + rng.Intn(10)
						rows = rowMap{width: w, valid: 1 + rng.Intn(w), rowStride: w * width, pixStride: width}
					}
					j := gemmJob{aOff: aLen, lda: lda, ldt: lda*3 + 1, kh: kh, ka: ka, m: m, rows: rows, cOff: size}
					if m > 0 {
						aLen += (m-1)*lda + (kh-1)*j.ldt + ka
						size += rows.offset(m-1-(m-1)%rows.width) + rows.width*rows.pixStride + width
					}
					jobs = append(jobs, j)
				}
				a = randFloats(rng, aLen)
				packed := rng.Intn(3) == 0
				for i := range jobs {
					jobs[i].a = a
					if packed {
						j := jobs[i]
						jobs[i].pack = func(r0, n int, dst []float32) {
							for h := 0; h < n; h++ {
								for tt := 0; tt < j.kh; tt++ {
									copy(dst[h*k+tt*j.ka:][:j.ka], a[j.aOff+(r0+h)*j.lda+tt*j.ldt:])
								}
							}
						}
						jobs[i].a = nil
					}
				}
				c := randFloats(rng, size)
				want := make([]float64, size)
				scale := make([]float64, size)
				for i, v := range c {
					want[i] = float64(v)
				}
				acc := rng.Intn(2) == 0
				for _, j := range jobs {
					for r := 0; r < j.m; r++ {
						o := j.rows.offset(r)
						if o < 0 {
							continue
						}
						for p := range pb.ncols {
							ref := &gemmTile{mr: 1, a: a[j.aOff+r*j.lda:], ldt: j.ldt, kh: j.kh, ka: j.ka, b: pb.panel(p), coff: []int{j.cOff + o + pb.colOff[p]}, ncols: pb.ncols[p]}
							if acc {
								ref.flags |= gemmAccumulate
							}
							if pb.relu {
								ref.flags |= gemmRelu
							}
							if pb.bias != nil {
								ref.bias = pb.bias[p*gemmNR:]
							}
							s := gemmRef(ref, want)
							for e, v := range s {
								scale[e] = max(scale[e], v)
							}
						}
					}
				}
				gemmWith(mk, jobs, pb, c, 1+rng.Intn(3), acc)
				requireNear(t, want, scale, c, fmt.Sprintf("case %d (kh %d, ka %d, %d panels, %d jobs, packed %v, bias %v, relu %v)", it, kh, ka, npanel, len(jobs), packed, pb.bias != nil, pb.relu))
			}
		})
	}
}

func TestGEMMRejectsOutOfRangeJobs(t *testing.T) {
	pb := newPanels(4, 1)
	pb.ncols[0] = gemmNR
	c := make([]float32, 10*gemmNR)
	a := make([]float32, 40)
	ok := gemmJob{a: a, lda: 4, kh: 1, ka: 4, m: 10, rows: denseRows(10, gemmNR)}
	require.NotPanics(t, func() { gemm([]gemmJob{ok}, pb, c, 1, false) })
	for name, j := range map[string]gemmJob{
		"a too short": {a: a[:39], lda: 4, kh: 1, ka: 4, m: 10, rows: denseRows(10, gemmNR)},
		"c too short": {a: a, lda: 4, kh: 1, ka: 4, m: 10, rows: denseRows(10, gemmNR), cOff: 1},
		"k mismatch":  {a: a, lda: 4, kh: 2, ka: 4, m: 5, rows: denseRows(5, gemmNR)},
	} {
		require.Panics(t, func() { gemm([]gemmJob{j}, pb, c, 1, false) }, name)
	}
}

// BenchmarkGEMMMicroKernel measures each micro-kernel on one tile with A
// and B in cache (k = 576, a 3×3×64 convolution's).
func BenchmarkGEMMMicroKernel(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	for _, mk := range gemmKernels {
		b.Run("kernel="+mk.name, func(b *testing.B) {
			const kh, ka = 3, 192
			lda := 64
			a := randFloats(rng, (mk.mr-1)*lda+2*256*64+ka)
			bp := randFloats(rng, kh*ka*gemmNR)
			c := make([]float32, mk.mr*gemmNR)
			coff := make([]int, mk.mr)
			for i := range coff {
				coff[i] = i * gemmNR
			}
			tile := &gemmTile{mr: mk.mr, a: a, lda: lda, ldt: 256 * 64, kh: kh, ka: ka, b: bp, c: c, coff: coff, ncols: gemmNR}
			for i := 0; i < b.N; i++ {
				mk.run(tile)
			}
			b.ReportMetric(2*float64(mk.mr*kh*ka*gemmNR)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
