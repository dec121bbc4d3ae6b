package npy_test

import (
	"bytes"
	"fmt"

	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/tfops"
)

func Example() {
	var buf bytes.Buffer
	x := tfops.MustFromSlice([]float32{0.25, 0.5, 0.75, 1}, 2, 2)
	if err := npy.Write(&buf, x); err != nil {
		panic(err)
	}
	y, err := npy.Read(&buf, npy.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(y.DType(), y.Shape(), y.Float32s())
	// Output: float32 [2 2] [0.25 0.5 0.75 1]
}
