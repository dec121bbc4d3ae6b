package tfops_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tfseg/tfseg/tfops"
)

func ExampleTensor_AsFloat64s() {
	labels := tfops.MustFromSlice([]int32{0, 2, 1}, 3)
	mask := tfops.MustFromSlice([]bool{true, false}, 2)
	v, _ := labels.AsFloat64s()
	m, _ := mask.AsFloat64s()
	_, ok := tfops.FromScalar("x").AsFloat64s()
	fmt.Println(v, m, ok)
	// Output: [0 2 1] [1 0] false
}

// TestAsFloat64s checks every element type against float64(x) and that the
// result is a copy.
func TestAsFloat64s(t *testing.T) {
	check := func(x *tfops.Tensor, want []float64) {
		t.Helper()
		got, ok := x.AsFloat64s()
		assert.True(t, ok, x.DType().String())
		assert.Equal(t, want, got, x.DType().String())
	}
	check(tfops.MustFromSlice([]float32{1.5, -0.25}, 2), []float64{1.5, -0.25})
	check(tfops.MustFromSlice([]int64{-3, 1 << 40}, 2), []float64{-3, 1 << 40})
	check(tfops.MustFromSlice([]uint8{0, 255}, 2), []float64{0, 255})
	check(tfops.MustFromSlice([]int8{-128, 127}, 2), []float64{-128, 127})
	check(tfops.MustFromSlice([]int16{-7}, 1), []float64{-7})
	check(tfops.MustFromSlice([]uint16{65535}, 1), []float64{65535})
	check(tfops.MustFromSlice([]uint32{1 << 31}, 1), []float64{1 << 31})
	check(tfops.MustFromSlice([]uint64{1 << 63}, 1), []float64{1 << 63})
	d := tfops.MustFromSlice([]float64{2, 3}, 2)
	got, _ := d.AsFloat64s()
	got[0] = 9
	assert.Equal(t, []float64{2, 3}, d.Float64s(), "the result is a copy")
}

func TestIndexValues(t *testing.T) {
	i32 := tfops.MustFromSlice([]int32{-3, 0, 1 << 30}, 3)
	v, ok := i32.IndexValues()
	if !ok || !slices.Equal(v, []int64{-3, 0, 1 << 30}) {
		t.Fatalf("int32: %v %v", v, ok)
	}
	src := []int64{7, -1 << 40}
	v, ok = tfops.MustFromSlice(src, 2).IndexValues()
	if !ok || !slices.Equal(v, src) {
		t.Fatalf("int64: %v %v", v, ok)
	}
	v[0] = 99
	if w, _ := tfops.MustFromSlice(src, 2).IndexValues(); w[0] != 7 {
		t.Fatal("IndexValues returned the tensor's own slice")
	}
	if _, ok := tfops.MustFromSlice([]float32{1}, 1).IndexValues(); ok {
		t.Fatal("float32 accepted as an index type")
	}
}
