package goengine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestHasDenormal32 checks the scan against the Go loop at every length
// up to 200 and every position of one denormal (and of the values next to
// the denormal range).
func TestHasDenormal32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	specials := []uint32{0x00000001, 0x007fffff, 0x80000001, 0x807fffff, 0x00400000}
	normals := []uint32{0, 0x80000000, 0x00800000, 0x80800000, 0x7f800000, 0x7fc00000, 0xff800000}
	for n := 0; n <= 200; n++ {
		v := make([]float32, n)
		for i := range v {
			v[i] = math.Float32frombits(normals[r.IntN(len(normals))])
		}
		if got, want := hasDenormal32(v), hasDenormal32Go(v); got != want || got {
			t.Fatalf("n=%d without denormals: got %v, Go %v", n, got, want)
		}
		for i := 0; i < n; i++ {
			old := v[i]
			v[i] = math.Float32frombits(specials[r.IntN(len(specials))])
			if !hasDenormal32(v) || !hasDenormal32Go(v) {
				t.Fatalf("n=%d: denormal at %d not found", n, i)
			}
			v[i] = old
		}
	}
}
