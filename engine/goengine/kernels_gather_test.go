package goengine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine/internal/vec/vectest"
	"github.com/tfseg/tfseg/tfops"
)

// TestTopKRadixMatchesSort checks the radix TopKV2 path against the
// comparison sort on rows with ties, ±0, denormals, infinities and NaNs,
// for several k.
func TestTopKRadixMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	c := &Context{State: &State{threads: 2, limits: engine.Limits{}.WithDefaults()}}
	pool := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.5, f32From(1), f32From(0x80000001),
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), f32From(0xffc00001), 3, -3}
	for _, n := range []int{64, 100, 1000, 5000} {
		for _, rows := range []int{1, 3} {
			xs := make([]float32, n*rows)
			for i := range xs {
				switch r.IntN(3) {
				case 0:
					xs[i] = pool[r.IntN(len(pool))]
				case 1:
					xs[i] = float32(r.IntN(7) - 3)
				default:
					xs[i] = float32(r.NormFloat64())
				}
			}
			keys := dazTensor(tfops.MustFromSlice(xs, rows, n)).Float32s()
			for _, k := range []int{2, n / 3, n} {
				wv, wi := make([]float32, rows*k), make([]int32, rows*k)
				gv, gi := make([]float32, rows*k), make([]int32, rows*k)
				topKRows(c, keys, xs, wv, wi, n, k)
				topKRadix32(c, keys, xs, gv, gi, n, k)
				require.Equal(t, wi, gi, "indices n=%d rows=%d k=%d", n, rows, k)
				for j := range wv {
					require.True(t, vectest.SameBits(wv[j], gv[j]), "value %d n=%d k=%d", j, n, k)
				}
			}
		}
	}
}

// BenchmarkTopK sorts rows of 512·512 float32 (lovasz_hinge's TopKV2 with
// k = n) by radix and by comparison.
func BenchmarkTopK(b *testing.B) {
	const rows, n = 4, 512 * 512
	r := rand.New(rand.NewPCG(1, 2))
	xs := make([]float32, rows*n)
	for i := range xs {
		xs[i] = float32(r.NormFloat64())
	}
	c := &Context{State: &State{threads: 2, limits: engine.Limits{}.WithDefaults()}}
	vals, idx := make([]float32, rows*n), make([]int32, rows*n)
	for _, impl := range []string{"radix", "sort"} {
		b.Run(fmt.Sprintf("impl=%s/size=%dx%d", impl, rows, n), func(b *testing.B) {
			b.SetBytes(4 * rows * n)
			for b.Loop() {
				if impl == "radix" {
					topKRadix32(c, xs, xs, vals, idx, n, n)
				} else {
					topKRows(c, xs, xs, vals, idx, n, n)
				}
			}
		})
	}
}

// runScope runs a one-fetch graph on the Go engine.
func runScope(t *testing.T, s *tfops.Scope, out tfops.Output, feeds map[string]*tfops.Tensor) *tfops.Tensor {
	t.Helper()
	gd, err := s.Finalize()
	require.NoError(t, err)
	sess, err := Engine{}.NewSession(gd, engine.SessionOptions{Threads: 2})
	require.NoError(t, err)
	defer sess.Close()
	res, err := sess.Run(context.Background(), feeds, []string{out.Name()}, nil)
	require.NoError(t, err)
	return res[0]
}

// TestGatherElemsAndCumsumRows checks the float32 fast paths of GatherV2
// (one-element rows) and Cumsum (innermost axis) against the float64
// paths, which take the general code.
func TestGatherElemsAndCumsumRows(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const b, n = 3, 1000
	p32 := make([]float32, b*n)
	p64 := make([]float64, b*n)
	for i := range p32 {
		p32[i] = float32(r.NormFloat64())
		p64[i] = float64(p32[i])
	}
	ix := make([]int32, b*n)
	for i := range ix {
		ix[i] = int32(r.IntN(n))
	}
	for _, tc := range []struct {
		name      string
		batchDims int
		idxShape  []int
	}{{"batch_dims=1", 1, []int{b, n}}, {"batch_dims=0", 0, []int{b, n}}, {"batch_dims=0/vector", 0, []int{b * n}}} {
		t.Run("gather/"+tc.name, func(t *testing.T) {
			var got, want *tfops.Tensor
			for _, f64 := range []bool{false, true} {
				s := tfops.NewScope()
				d, pv := tfops.Float, tfops.MustFromSlice(p32, b, n)
				if f64 {
					d, pv = tfops.Double, tfops.MustFromSlice(p64, b, n)
				}
				p := tfops.Placeholder(s.WithOpName("p"), d, tfops.UnknownShape())
				i := tfops.Placeholder(s.WithOpName("i"), tfops.Int32, tfops.UnknownShape())
				out := tfops.GatherV2(s, p, i, tfops.Scalar(s, tfops.Int32, 1), tc.batchDims)
				res := runScope(t, s, out, map[string]*tfops.Tensor{"p": pv, "i": tfops.MustFromSlice(ix, tc.idxShape...)})
				if f64 {
					want = res
				} else {
					got = res
				}
			}
			require.Equal(t, want.Shape(), got.Shape())
			for k, v := range want.Float64s() {
				require.Equal(t, float32(v), got.Float32s()[k], "element %d", k)
			}
		})
	}
	for _, excl := range []bool{false, true} {
		for _, rev := range []bool{false, true} {
			t.Run(fmt.Sprintf("cumsum/exclusive=%v/reverse=%v", excl, rev), func(t *testing.T) {
				var got, want *tfops.Tensor
				for _, f64 := range []bool{false, true} {
					s := tfops.NewScope()
					d, pv := tfops.Float, tfops.MustFromSlice(p32, b, n)
					if f64 {
						d, pv = tfops.Double, tfops.MustFromSlice(p64, b, n)
					}
					p := tfops.Placeholder(s.WithOpName("p"), d, tfops.UnknownShape())
					out := tfops.Cumsum(s, p, tfops.Scalar(s, tfops.Int32, 1), excl, rev)
					res := runScope(t, s, out, map[string]*tfops.Tensor{"p": pv})
					if f64 {
						want = res
					} else {
						got = res
					}
				}
				for k, v := range want.Float64s() {
					require.Equal(t, float32(v), got.Float32s()[k], "element %d", k)
				}
			})
		}
	}
}
