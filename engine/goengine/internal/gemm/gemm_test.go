package gemm

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// gemmRef is micro's definition in float64: for every panel p,
// C[coff[i] + ColOff[p] + j] (+)= act(Σ_t Σ_q a[t·ldt + i·lda + q]·B_p[(t·ka+q)·16 + j] + bias[p·16 + j]).
// It also returns, per element, Σ |terms|, the scale of the float32
// rounding error.
func gemmRef(t *microTile, c []float64) (scale []float64) {
	scale = make([]float64, len(c))
	pb := t.pb
	for i := 0; i < t.mr; i++ {
		if t.coff[i] < 0 {
			continue
		}
		for p := range pb.NCols {
			b := pb.Panel(p)
			for j := 0; j < pb.NCols[p]; j++ {
				s, abs := 0.0, 0.0
				for u := 0; u < t.kh; u++ {
					for q := 0; q < t.ka; q++ {
						v := float64(t.a[u*t.ldt+i*t.lda+q]) * float64(b[(u*t.ka+q)*NR+j])
						s += v
						abs += math.Abs(v)
					}
				}
				if pb.Bias != nil {
					s += float64(pb.Bias[p*NR+j])
					abs += math.Abs(float64(pb.Bias[p*NR+j]))
				}
				o := t.coff[i] + pb.ColOff[p] + j
				if t.flags&flagAccumulate != 0 {
					abs += math.Abs(c[o])
					s += c[o]
				}
				if t.flags&flagRelu != 0 && s < 0 {
					s = 0
				}
				c[o], scale[o] = s, abs
			}
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

// randPanels returns np panels of k rows with random data, widths
// (full or not) and non-overlapping column offsets, and their width.
func randPanels(rng *rand.Rand, k, np int) (*Panels, int) {
	pb := NewPanels(k, np)
	width := 0
	for p := range pb.NCols {
		pb.NCols[p] = NR
		if rng.Intn(2) == 0 {
			pb.NCols[p] = 1 + rng.Intn(NR)
		}
		pb.ColOff[p] = width + rng.Intn(3)
		width = pb.ColOff[p] + pb.NCols[p]
	}
	pb.Data = randFloats(rng, len(pb.Data))
	if rng.Intn(2) == 0 {
		pb.Bias = randFloats(rng, np*NR)
	}
	return pb, width
}

// testKernels is kernels and the narrow kernels they hand small B to.
func testKernels() []micro {
	ks := append([]micro(nil), kernels...)
	for _, mk := range kernels {
		if mk.narrow != nil {
			ks = append(ks, *mk.narrow)
		}
	}
	return ks
}

// narrowPanels makes pb one panel of 1 to narrowCols columns, the B that
// a narrow kernel (anyRows) is given.
func narrowPanels(rng *rand.Rand, pb *Panels) (*Panels, int) {
	pb.NCols, pb.ColOff = pb.NCols[:1], pb.ColOff[:1]
	pb.NCols[0] = 1 + rng.Intn(narrowCols)
	if pb.Bias != nil {
		pb.Bias = pb.Bias[:NR]
	}
	return pb, pb.ColOff[0] + pb.NCols[0]
}

func TestGEMMMicroKernels(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, mk := range testKernels() {
		t.Run(mk.name, func(t *testing.T) {
			for it := 0; it < 300; it++ {
				np := 1 + rng.Intn(5)
				if mk.anyRows {
					np = 1
				}
				kh, ka := 1+rng.Intn(3), rng.Intn(40)
				if ka == 0 {
					ka = 1
				}
				if rng.Intn(3) == 0 { // k ≥ 512, as the large convolutions have
					kh, ka = 3, 171+rng.Intn(40)
				}
				mr := mk.rows(np)
				if mk.name == "go" || mk.anyRows {
					mr = 1 + rng.Intn(mr)
				}
				lda := ka + rng.Intn(5) - 2 // rows may overlap, as convolution rows do
				lda = max(lda, 1)
				ldt := mr*lda + rng.Intn(7)
				if rng.Intn(4) == 0 {
					ldt = rng.Intn(ka + 1) // blocks may overlap too
				}
				a := randFloats(rng, (mr-1)*lda+(kh-1)*ldt+ka)
				pb, width := randPanels(rng, kh*ka, np)
				if mk.anyRows {
					pb, width = narrowPanels(rng, pb)
				}
				// Rows go to distinct places of a larger C, some nowhere.
				ldc := width + rng.Intn(5)
				perm := rng.Perm(mr + 3)
				coff := make([]int, mr, (mr+15)/16*16) // sgemmAVX512N reads groups of 16
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
				tile := &microTile{mr: mr, a: a, lda: lda, ldt: ldt, kh: kh, ka: ka, pb: pb, c: c, coff: coff, flags: rng.Intn(4)}
				scale := gemmRef(tile, want)
				mk.run(tile)
				requireNear(t, want, scale, c, fmt.Sprintf("case %d (mr %d, kh %d, ka %d, lda %d, ldt %d, panels %v at %v, flags %d, bias %v)", it, mr, kh, ka, lda, ldt, pb.NCols, pb.ColOff, tile.flags, pb.Bias != nil))
			}
		})
	}
}

// TestGEMMJobs runs the tiled driver on jobs of every shape (fewer rows than
// a tile, tails, virtual rows that are not stored, packed A, scattered
// column panels, zero k) with each micro-kernel, against gemmRef.
func TestGEMMJobs(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for _, mk := range testKernels() {
		t.Run(mk.name, func(t *testing.T) {
			for it := 0; it < 60; it++ {
				kh, ka := 1+rng.Intn(3), rng.Intn(30)
				if rng.Intn(4) == 0 { // k ≥ 512, as the large convolutions have
					kh, ka = 3, 171+rng.Intn(40)
				}
				k := kh * ka
				npanel := 1 + rng.Intn(4)
				if mk.anyRows || (mk.narrow != nil && rng.Intn(3) == 0) {
					npanel = 1
				}
				// Panels land at scattered, non-overlapping column offsets.
				pb, width := randPanels(rng, k, npanel)
				if npanel == 1 && (mk.anyRows || rng.Intn(2) == 0) {
					pb, width = narrowPanels(rng, pb)
				}
				pb.Relu = rng.Intn(2) == 0
				lda := max(1, ka+rng.Intn(3)-1)
				var jobs []Job
				var size int
				var a []float32
				aLen := 0
				for jn := rng.Intn(3) + 1; jn > 0; jn-- {
					m := rng.Intn(3 * mk.rows(npanel))
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
						ref := &microTile{mr: 1, a: a[j.AOff+r*j.LDA:], ldt: j.LDT, kh: j.KH, ka: j.KA, pb: pb, coff: []int{j.COff + o}}
						if acc {
							ref.flags |= flagAccumulate
						}
						if pb.Relu {
							ref.flags |= flagRelu
						}
						s := gemmRef(ref, want)
						for e, v := range s {
							scale[e] = max(scale[e], v)
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
			mr := mk.rows(1)
			a := randFloats(rng, (mr-1)*lda+2*256*64+ka)
			pb := PackPanels(randFloats(rng, kh*ka*NR), kh*ka, NR, NR, 1)
			c := make([]float32, mr*NR)
			coff := make([]int, mr)
			for i := range coff {
				coff[i] = i * NR
			}
			tile := &microTile{mr: mr, a: a, lda: lda, ldt: 256 * 64, kh: kh, ka: ka, pb: pb, c: c, coff: coff}
			for i := 0; i < b.N; i++ {
				mk.run(tile)
			}
			b.ReportMetric(2*float64(mr*kh*ka*NR)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestGEMMTileShapesSameBits checks that the avx512 kernel's 14×32 tiles,
// its 14-pixel × 2-row tiles of one panel (sgemmAVX512P) and its
// rows-in-lanes kernel for B of at most 4 columns give the bits of
// avx512x28's 28×16 tiles, and so does the portable kernelGo (fma32):
// each element is the same chain of FMAs in the same order, whatever the
// tile.
func TestGEMMTileShapesSameBits(t *testing.T) {
	var wide, narrow micro
	for _, mk := range kernels {
		switch mk.name {
		case "avx512":
			wide = mk
		case "avx512x28":
			narrow = mk
		}
	}
	if wide.run == nil || narrow.run == nil {
		t.Skip("no AVX-512 on this CPU or build")
	}
	rng := rand.New(rand.NewSource(3))
	for _, s := range []convShape{{"64to48@40", 40, 40, 3, 64, 48, false}, {"T512to32@12", 12, 12, 2, 512, 32, true},
		{"1x1:16to2@61", 61, 61, 1, 16, 2, false}, {"32to3@37", 37, 37, 3, 32, 3, false}, {"T8to1@9", 9, 9, 2, 8, 1, true},
		// One panel, two output rows per tile (pairRows): an odd and an
		// even row count, rows of 14·k and other widths, k not a
		// multiple of 4, a partial panel, 2 and 5 filter rows.
		{"pair:16to16@57", 57, 57, 3, 16, 16, false}, {"pair:16to16@44", 44, 44, 3, 16, 16, false}, {"pair:6to16@45x44", 45, 44, 3, 6, 16, false},
		{"pair:7to10@58", 58, 58, 3, 7, 10, false}, {"pair:8to16@46k5", 46, 46, 5, 8, 16, false}, {"pair:9to12@43k2", 43, 43, 2, 9, 12, false},
		{"16to16@29", 29, 29, 3, 16, 16, false}, {"1to16@33", 33, 33, 3, 1, 16, false}, {"16to16@45", 45, 45, 3, 16, 16, false},
		// One input channel, 3×3 (row3Rows when not accumulating): rows of
		// 20 pixels (one chunk), 20·k + r, a partial panel and two panels.
		{"1to16@22", 22, 22, 3, 1, 16, false}, {"1to16@63", 63, 63, 3, 1, 16, false}, {"1to7@41x30", 41, 30, 3, 1, 7, false},
		{"1to32@50", 50, 50, 3, 1, 32, false}, {"1to16@21", 21, 21, 3, 1, 16, false}} {
		j, pb, _, _ := s.job(rng)
		if len(pb.NCols) > 1 {
			require.Equal(t, 14, wide.rows(len(pb.NCols)), s.name)
		}
		require.Equal(t, strings.HasPrefix(s.name, "pair:"), pairRows(&j) > 1, "%s runs in row pairs", s.name)
		pb.Bias, pb.Relu = randFloats(rng, len(pb.NCols)*NR), true
		_, _, out, _ := s.job(rng)
		// Two jobs: the same image written twice, the second after the
		// first (a worker's tiles switch jobs).
		j2 := j
		j2.COff = len(out)
		for _, acc := range []bool{true, false} {
			require.Equal(t, s.cin == 1 && s.k == 3 && !s.transposed && s.w-2 >= row3Pixels && !acc, row3Rows(wide, &j, acc) > 0, "%s runs in rows of row3", s.name)
			c1, c2, c3 := randFloats(rng, 2*len(out)), make([]float32, 2*len(out)), make([]float32, 2*len(out))
			copy(c2, c1)
			copy(c3, c1)
			runWith(wide, []Job{j, j2}, pb, c1, 2, acc)
			runWith(narrow, []Job{j, j2}, pb, c2, 2, acc)
			runWith(goMicro, []Job{j, j2}, pb, c3, 2, acc)
			for i := range c1 {
				if math.Float32bits(c1[i]) != math.Float32bits(c2[i]) {
					t.Fatalf("%s (accumulate %v): element %d is %v with the avx512 kernel's tiles, %v with 28×16", s.name, acc, i, c1[i], c2[i])
				}
				if math.Float32bits(c3[i]) != math.Float32bits(c2[i]) {
					t.Fatalf("%s (accumulate %v): element %d is %v with kernelGo, %v with 28×16", s.name, acc, i, c3[i], c2[i])
				}
			}
		}
	}
}

// TestGEMMJobsOfOtherStrides checks that a worker's tiles going from one
// job to the next, of another C pixel stride, place their rows by the
// new job's stride (runWith keeps a tile's row offsets from job to job
// while they stay the same): two jobs in one Run give the bits of each
// job run alone, with every kernel.
func TestGEMMJobsOfOtherStrides(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	const m, k = 61, 24
	for _, mk := range testKernels() {
		pb := PackPanels(randFloats(rng, k*NR), k, NR, NR, 1)
		a := randFloats(rng, m*k)
		j1 := Job{A: a, LDA: k, KH: 1, KA: k, M: m, Rows: DenseRows(m, NR)}
		j2 := Job{A: a, LDA: k, KH: 1, KA: k, M: m, Rows: RowMap{Width: m, Valid: m, PixStride: 2 * NR}, COff: m * NR}
		together, alone := make([]float32, 3*m*NR), make([]float32, 3*m*NR)
		runWith(mk, []Job{j1, j2}, pb, together, 1, false)
		runWith(mk, []Job{j1}, pb, alone, 1, false)
		runWith(mk, []Job{j2}, pb, alone, 1, false)
		for i := range together {
			require.Equal(t, math.Float32bits(alone[i]), math.Float32bits(together[i]), "%s: element %d", mk.name, i)
		}
	}
}
