package gemm

import (
	"math"
	"math/big"
	"math/rand"
	"testing"
)

// exactFMA32 is a·b + c rounded once to float32, through math/big: the
// product and sum exact at 300 bits, then rounded to the nearest float32
// (ties to even, denormals included). Infinities and NaNs, which math/big
// does not take, follow IEEE 754 through float64.
func exactFMA32(a, b, c float32) float32 {
	for _, v := range []float32{a, b, c} {
		if math.IsInf(float64(v), 0) || v != v {
			return float32(float64(a)*float64(b) + float64(c))
		}
	}
	x := new(big.Float).SetPrec(300).SetFloat64(float64(a))
	x.Mul(x, new(big.Float).SetPrec(300).SetFloat64(float64(b)))
	x.Add(x, new(big.Float).SetPrec(300).SetFloat64(float64(c)))
	f, _ := x.Float32()
	return f
}

// TestFMA32 checks fma32 against exactly rounded sums from math/big: the
// double-rounding cases (float64 sums on a float32 midpoint, just above or
// below it, and exactly on it), results below the smallest normal float32,
// overflow, and random operands of every magnitude.
func TestFMA32(t *testing.T) {
	a := float32(1 + 0x1p-12) // a·a = 1 + 2^-11 + 2^-24: a midpoint
	cases := [][3]float32{
		{a, a, 0}, {a, a, 0x1p-60}, {a, a, -0x1p-60}, {-a, a, 0x1p-60}, {-a, a, -0x1p-60},
		{2, 3, 1}, {0x1p-75, 0x1p-75, 0}, {0x1p-75, 0x1p-75, 0x1p-149}, {0x1.000002p-75, 0x1.8p-75, -0x1p-149},
		{0x1p-140, 0x1p-10, 0x1p-149}, {0x1p-140, 0x1.8p-10, 0x1p-173}, {math.MaxFloat32, 2, 0}, {math.MaxFloat32, 1, math.MaxFloat32},
		{math.MaxFloat32, -1, math.MaxFloat32}, {float32(math.Inf(1)), 1, 1}, {float32(math.Inf(1)), 0, 1},
		{float32(math.NaN()), 1, 1}, {0, -1, 0}, {0x1p-126, 1, -0x1p-127},
		// Below the smallest normal: a·b = 2^-150·(1 - 2^-46), c = 2^-127 +
		// 2^-149; the float64 sum rounds onto the midpoint c + 2^-150,
		// whose float32 tie goes up to even, while the exact sum rounds
		// down to c.
		{0x1.000002p-75, 0x1.fffffcp-76, 0x1.000004p-127}, {-0x1.000002p-75, 0x1.fffffcp-76, -0x1.000004p-127},
	}
	rng := rand.New(rand.NewSource(11))
	f := func(scale int) float32 {
		return float32(math.Ldexp(rng.Float64()+0.5, rng.Intn(2*scale+1)-scale)) * float32(1-2*rng.Intn(2))
	}
	for range 300000 {
		cases = append(cases, [3]float32{f(20), f(20), f(40)}, [3]float32{f(70), f(70), f(140)})
	}
	// Sums near midpoints: c cancels the product's high part, so the
	// result's last bits are the product's.
	for range 300000 {
		x, y := f(10), f(10)
		hi := float32(float64(x) * float64(y))
		cases = append(cases, [3]float32{x, y, -hi * float32(rng.Float64())})
	}
	bad := 0
	for _, tc := range cases {
		got, want := fma32(tc[0], tc[1], tc[2]), exactFMA32(tc[0], tc[1], tc[2])
		if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
			if bad++; bad <= 10 {
				t.Errorf("fma32(%x, %x, %x) = %x, want %x", tc[0], tc[1], tc[2], got, want)
			}
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d wrong", bad, len(cases))
	}
}

// TestKernelGoRoundsOnce runs kernelGo on tiles whose operands are short
// binary fractions (1 + k·2^-12 times small powers of two), so that many
// of the float64 sums land on float32 midpoints, and pairs whose product
// 2^-24·(1 - 2^-46) makes the float64 sum round onto a midpoint that the
// exact sum is not on (double rounding, which round-to-odd settles). It
// checks every output element against its chain of exactly rounded
// multiply-adds (exactFMA32, in kernelGo's order: filter row, then
// element) on whichever form this build runs (fusedFMA or not). With
// c += a*b rounded twice, or without the round-to-odd step, it fails.
func TestKernelGoRoundsOnce(t *testing.T) {
	rng := rand.New(rand.NewSource(17))
	short := func() float32 {
		v := float32(1+float64(rng.Intn(8))*0x1p-12+float64(rng.Intn(2))*0x1p-23) * float32(math.Ldexp(1, rng.Intn(3)-1))
		return v * float32(1-2*rng.Intn(2))
	}
	// sa·sb = 2^-24·(1 - 2^-46): half a float32 ulp of [1, 2), less a bit
	// float64 cannot keep next to the accumulator.
	const sa, sb = 0x1.000002p-12, 0x1.fffffcp-13
	pick := func(special float32) float32 {
		if rng.Intn(3) == 0 {
			return special * float32(1-2*rng.Intn(2))
		}
		return short()
	}
	const mr, kh, ka, lda, ldt = 8, 2, 37, 37, 8 * 37
	ties, twice := 0, 0
	for it := range 20 {
		a := make([]float32, kh*ldt)
		for i := range a {
			a[i] = pick(sa)
		}
		pb := NewPanels(kh*ka, 1)
		pb.NCols[0] = NR
		for i := range pb.Data {
			pb.Data[i] = pick(sb)
		}
		coff := make([]int, mr)
		for i := range coff {
			coff[i] = i * NR
		}
		c := make([]float32, mr*NR)
		kernelGo(&microTile{mr: mr, a: a, lda: lda, ldt: ldt, kh: kh, ka: ka, pb: pb, c: c, coff: coff})
		b := pb.Panel(0)
		for i := range mr {
			for j := range NR {
				var acc float32
				for s := range kh {
					for q := range ka {
						x, y := a[s*ldt+i*lda+q], b[(s*ka+q)*NR+j]
						s := fma64(x, y, acc)
						if careful(s) {
							ties++
						}
						next := exactFMA32(x, y, acc)
						if float32(s) != next {
							twice++
						}
						acc = next
					}
				}
				if math.Float32bits(acc) != math.Float32bits(c[i*NR+j]) {
					t.Fatalf("tile %d, row %d, column %d: kernelGo gives %x, the chain of single roundings %x", it, i, j, c[i*NR+j], acc)
				}
			}
		}
	}
	if ties < 100 || twice < 20 {
		t.Fatalf("%d sums took fma32's careful path, %d rounded twice would differ: the test does not exercise it", ties, twice)
	}
	t.Logf("fusedFMA %v; %d sums took the careful path, %d rounded twice would differ", fusedFMA, ties, twice)
}
