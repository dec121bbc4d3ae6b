package goengine_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/tfops"
)

// TestPadLargerThanOneBlock runs MirrorPad (both modes) and PadV2 on a
// dtype without the row fast path at sizes of several index
// blocks, whose block boundaries fall mid-row, against a direct reference:
// out[o] = x[mirror(o - before)] per dimension (REFLECT: -1 → 1; SYMMETRIC:
// -1 → 0), or the constant where any coordinate falls outside.
func TestPadLargerThanOneBlock(t *testing.T) {
	xs := []int{3, 23, 29, 5}
	pads := []int32{0, 1, 3, 2, 1, 4, 0, 0}
	n := tfops.NumElements(xs)
	f := make([]float32, n)
	u := make([]uint8, n)
	for i := range f {
		f[i], u[i] = float32(i)*0.5-7, uint8(i*7)
	}
	outDims := make([]int, len(xs))
	for i := range xs {
		outDims[i] = xs[i] + int(pads[2*i]+pads[2*i+1])
	}
	require.Greater(t, tfops.NumElements(outDims), 3*4096) // several of the kernel's 4096-element blocks
	// src returns x's flat index for output index o, or -1.
	src := func(o int, mode string) int {
		idx, off, stride := make([]int, len(xs)), 0, 1
		for i := len(xs) - 1; i >= 0; i-- {
			idx[i], o = o%outDims[i], o/outDims[i]
		}
		for i := len(xs) - 1; i >= 0; i-- {
			s := idx[i] - int(pads[2*i])
			switch {
			case s >= 0 && s < xs[i]:
			case mode == "REFLECT" && s < 0:
				s = -s
			case mode == "REFLECT":
				s = 2*(xs[i]-1) - s
			case mode == "SYMMETRIC" && s < 0:
				s = -s - 1
			case mode == "SYMMETRIC":
				s = 2*xs[i] - 1 - s
			default:
				return -1
			}
			off += s * stride
			stride *= xs[i]
		}
		return off
	}
	padT := tfops.MustFromSlice(pads, 4, 2)
	for _, mode := range []string{"REFLECT", "SYMMETRIC"} {
		t.Run("MirrorPad/"+mode, func(t *testing.T) {
			out, err := nnRunOp("MirrorPad", map[string]any{"mode": mode}, 1, tfops.MustFromSlice(f, xs...), padT)
			require.NoError(t, err)
			require.Equal(t, outDims, out[0].Shape())
			got := out[0].Float32s()
			for o := range got {
				if want := f[src(o, mode)]; got[o] != want {
					t.Fatalf("element %d is %v, want %v", o, got[o], want)
				}
			}
		})
	}
	t.Run("PadV2/uint8", func(t *testing.T) {
		out, err := nnRunOp("PadV2", nil, 1, tfops.MustFromSlice(u, xs...), padT, tfops.MustFromSlice([]uint8{201}))
		require.NoError(t, err)
		got := out[0].Data().([]uint8)
		for o := range got {
			want := uint8(201)
			if s := src(o, "CONSTANT"); s >= 0 {
				want = u[s]
			}
			if got[o] != want {
				t.Fatalf("element %d is %d, want %d", o, got[o], want)
			}
		}
	})
}
