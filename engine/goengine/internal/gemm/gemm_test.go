package gemm

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

// gemmRef is micro's definition in float64: C[coff[i] + j] (+)=
// act(Σ_t Σ_p a[t·ldt + i·lda + p]·b[(t·ka+p)·16 + j] + bias[j]). It also
// returns, per element, Σ |terms|, the scale of the float32 rounding error.
func gemmRef(t *microTile, c []float64) (scale []float64) {
	scale = make([]float64, len(c))
	for i := 0; i < t.mr; i++ {
		if t.coff[i] < 0 {
			continue
		}
		for j := 0; j < t.ncols; j++ {
			s, abs := 0.0, 0.0
			for u := 0; u < t.kh; u++ {
				for p := 0; p < t.ka; p++ {
					v := float64(t.a[u*t.ldt+i*t.lda+p]) * float64(t.b[(u*t.ka+p)*NR+j])
					s += v
					abs += math.Abs(v)
				}
			}
			if t.bias != nil {
				s += float64(t.bias[j])
				abs += math.Abs(float64(t.bias[j]))
			}
			if t.flags&flagRelu != 0 && s < 0 {
				s = 0
			}
			o := t.coff[i] + j
			if t.flags&flagAccumulate != 0 {
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
	for _, mk := range kernels {
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
				b := randFloats(rng, kh*ka*NR)
				ncols := 1 + rng.Intn(NR)
				if rng.Intn(2) == 0 {
					ncols = NR
				}
				// Rows go to distinct places of a larger C, some nowhere.
				ldc := NR + rng.Intn(5)
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
				tile := &microTile{mr: mr, a: a, lda: lda, ldt: ldt, kh: kh, ka: ka, b: b, c: c, coff: coff, ncols: ncols, flags: rng.Intn(4)}
				if rng.Intn(2) == 0 {
					tile.bias = randFloats(rng, NR)
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
	for _, mk := range kernels {
		t.Run(mk.name, func(t *testing.T) {
			for it := 0; it < 60; it++ {
				kh, ka := 1+rng.Intn(3), rng.Intn(30)
				k := kh * ka
				npanel := 1 + rng.Intn(3)
				// Panels land at scattered, non-overlapping column offsets.
				pb := NewPanels(k, npanel)
				width := 0
				for p := range pb.NCols {
					pb.NCols[p] = 1 + rng.Intn(NR)
					pb.ColOff[p] = width + rng.Intn(3)
					width = pb.ColOff[p] + pb.NCols[p]
				}
				pb.Data = randFloats(rng, len(pb.Data))
				if rng.Intn(2) == 0 {
					pb.Bias = randFloats(rng, npanel*NR)
				}
				pb.Relu = rng.Intn(2) == 0
				lda := max(1, ka+rng.Intn(3)-1)
				var jobs []Job
				var size int
				var a []float32
				aLen := 0
				for jn := rng.Intn(3) + 1; jn > 0; jn-- {
					m := rng.Intn(3 * mk.mr)
					rows := DenseRows(m, width)
					if rng.Intn(2) == 0 {
						w := 1 + rng.Intn(10)
						rows = RowMap{Width: w, Valid: 1 + rng.Intn(w), RowStride: w * width, PixStride: width}
					}
					j := Job{AOff: aLen, LDA: lda, LDT: lda*3 + 1, KH: kh, KA: ka, M: m, Rows: rows, COff: size}
					if m > 0 {
						aLen += (m-1)*lda + (kh-1)*j.LDT + ka
						size += rows.Offset(m-1-(m-1)%rows.Width) + rows.Width*rows.PixStride + width
					}
					jobs = append(jobs, j)
				}
				a = randFloats(rng, aLen)
				packed := rng.Intn(3) == 0
				for i := range jobs {
					jobs[i].A = a
					if packed {
						j := jobs[i]
						jobs[i].Pack = func(r0, n int, dst []float32) {
							for h := 0; h < n; h++ {
								for tt := 0; tt < j.KH; tt++ {
									copy(dst[h*k+tt*j.KA:][:j.KA], a[j.AOff+(r0+h)*j.LDA+tt*j.LDT:])
								}
							}
						}
						jobs[i].A = nil
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
					for r := 0; r < j.M; r++ {
						o := j.Rows.Offset(r)
						if o < 0 {
							continue
						}
						for p := range pb.NCols {
							ref := &microTile{mr: 1, a: a[j.AOff+r*j.LDA:], ldt: j.LDT, kh: j.KH, ka: j.KA, b: pb.Panel(p), coff: []int{j.COff + o + pb.ColOff[p]}, ncols: pb.NCols[p]}
							if acc {
								ref.flags |= flagAccumulate
							}
							if pb.Relu {
								ref.flags |= flagRelu
							}
							if pb.Bias != nil {
								ref.bias = pb.Bias[p*NR:]
							}
							s := gemmRef(ref, want)
							for e, v := range s {
								scale[e] = max(scale[e], v)
							}
						}
					}
				}
				runWith(mk, jobs, pb, c, 1+rng.Intn(3), acc)
				requireNear(t, want, scale, c, fmt.Sprintf("case %d (kh %d, ka %d, %d panels, %d jobs, packed %v, bias %v, relu %v)", it, kh, ka, npanel, len(jobs), packed, pb.Bias != nil, pb.Relu))
			}
		})
	}
}

func TestGEMMRejectsOutOfRangeJobs(t *testing.T) {
	pb := NewPanels(4, 1)
	pb.NCols[0] = NR
	c := make([]float32, 10*NR)
	a := make([]float32, 40)
	ok := Job{A: a, LDA: 4, KH: 1, KA: 4, M: 10, Rows: DenseRows(10, NR)}
	require.NotPanics(t, func() { Run([]Job{ok}, pb, c, 1, false) })
	for name, j := range map[string]Job{
		"a too short": {A: a[:39], LDA: 4, KH: 1, KA: 4, M: 10, Rows: DenseRows(10, NR)},
		"c too short": {A: a, LDA: 4, KH: 1, KA: 4, M: 10, Rows: DenseRows(10, NR), COff: 1},
		"k mismatch":  {A: a, LDA: 4, KH: 2, KA: 4, M: 5, Rows: DenseRows(5, NR)},
	} {
		require.Panics(t, func() { Run([]Job{j}, pb, c, 1, false) }, name)
	}
}

// BenchmarkGEMMMicroKernel measures each micro-kernel on one tile with A
// and B in cache (k = 576, a 3×3×64 convolution's).
func BenchmarkGEMMMicroKernel(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	for _, mk := range kernels {
		b.Run("kernel="+mk.name, func(b *testing.B) {
			const kh, ka = 3, 192
			lda := 64
			a := randFloats(rng, (mk.mr-1)*lda+2*256*64+ka)
			bp := randFloats(rng, kh*ka*NR)
			c := make([]float32, mk.mr*NR)
			coff := make([]int, mk.mr)
			for i := range coff {
				coff[i] = i * NR
			}
			tile := &microTile{mr: mk.mr, a: a, lda: lda, ldt: 256 * 64, kh: kh, ka: ka, b: bp, c: c, coff: coff, ncols: NR}
			for i := 0; i < b.N; i++ {
				mk.run(tile)
			}
			b.ReportMetric(2*float64(mk.mr*kh*ka*NR)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
