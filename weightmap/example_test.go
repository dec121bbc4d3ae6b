package weightmap_test

import (
	"bytes"
	"fmt"
	"image/png"

	"github.com/tfseg/tfseg/tfops"
	"github.com/tfseg/tfseg/weightmap"
)

func ExampleLabel() {
	mask := []uint8{
		1, 0, 0, 1,
		0, 1, 0, 1,
		0, 0, 0, 1,
	}
	labels, n, _ := weightmap.Label(mask, 3, 4, weightmap.Conn4)
	fmt.Println(n, labels)
	labels, n, _ = weightmap.Label(mask, 3, 4, weightmap.Conn8)
	fmt.Println(n, labels)
	// Output:
	// 3 [1 0 0 2 0 3 0 2 0 0 0 2]
	// 2 [1 0 0 2 0 1 0 2 0 0 0 2]
}

func ExampleEDT() {
	mask := []uint8{
		1, 1, 1,
		1, 1, 1,
		1, 1, 0,
	}
	d, _ := weightmap.EDT(mask, []int{3, 3}, nil)
	fmt.Printf("%.3f\n", d)
	// Anisotropic pixels: rows 2 units apart, columns 0.5.
	d, _ = weightmap.EDT(mask, []int{3, 3}, []float64{2, 0.5})
	fmt.Printf("%.3f\n", d)
	// Output:
	// [2.828 2.236 2.000 2.236 1.414 1.000 2.000 1.000 0.000]
	// [4.123 4.031 4.000 2.236 2.062 2.000 1.000 0.500 0.000]
}

func ExampleUNet() {
	// Three one-pixel objects. Between the first two, d1 + d2 = 3; pixel 5
	// is 2 from the middle object and 4 from the last.
	mask := []uint8{
		1, 0, 0, 1, 0, 0, 0, 0, 0, 1,
	}
	w, _ := weightmap.UNet(mask, 1, 10, weightmap.Options{Class: weightmap.ClassNone})
	fmt.Printf("%.3f\n", w)
	// With the default balanced class weights, background (7 pixels) weighs
	// 3/7 and foreground (3 pixels) 1.
	w, _ = weightmap.UNet(mask, 1, 10, weightmap.Options{})
	fmt.Printf("%.3f\n", w[:4])
	// Output:
	// [0.000 8.353 8.353 0.000 6.065 4.868 4.868 4.868 4.868 0.000]
	// [1.000 8.781 8.781 1.000]
}

func ExampleNearest() {
	mask := []uint8{
		0, 0, 0, 0,
		0, 1, 0, 0,
	}
	d, _ := weightmap.Nearest(mask, 2, 4, nil)
	fmt.Printf("%.3f\n", d)
	// Output:
	// [1.414 1.000 1.414 2.236 1.000 0.000 1.000 2.000]
}

func ExampleBatch() {
	// Two 2×3 masks as a (2, 2, 3, 1) tensor.
	mask := tfops.MustFromSlice([]uint8{
		1, 0, 0,
		0, 0, 1,

		0, 0, 0,
		0, 1, 0,
	}, 2, 2, 3, 1)
	d, err := weightmap.Batch(mask, weightmap.BatchOptions{Kind: weightmap.KindNearest})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.DType(), d.Shape())
	fmt.Printf("%.3f\n", d.Float32s())
	// Output:
	// float32 [2 2 3 1]
	// [0.000 1.000 1.000 1.000 1.000 0.000 1.414 1.000 1.414 1.000 0.000 1.000]
}

func ExampleWritePNG() {
	mask := []uint8{
		0, 1, 0, 0, 1,
		0, 1, 0, 0, 0,
	}
	w, _ := weightmap.UNet(mask, 2, 5, weightmap.Options{})
	var buf bytes.Buffer // or an *os.File
	if err := weightmap.WritePNG(&buf, w, 2, 5); err != nil {
		fmt.Println(err)
		return
	}
	img, _ := png.Decode(&buf)
	fmt.Println(img.Bounds().Size())
	// Output:
	// (320,102)
}

func ExampleBatch_invalidMask() {
	mask := tfops.MustFromSlice([]uint8{0, 1, 2, 0}, 1, 2, 2)
	_, err := weightmap.Batch(mask, weightmap.BatchOptions{})
	fmt.Println(err)
	// Output:
	// weightmap: invalid mask: value 2 at index 2 [0 1 0] (a mask holds 0/1 or 0/255)
}
