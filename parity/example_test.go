package parity_test

import (
	"context"
	"fmt"
	"math"
	"os"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/parity"
	"github.com/tfseg/tfseg/tfops"
)

// Compare two outputs and print the report `tfseg verify` prints.
func ExampleCompare() {
	got := tfops.MustFromSlice([]float32{1, 2, float32(math.NaN()), 0}, 2, 2)
	keras := tfops.MustFromSlice([]float32{1, math.Nextafter32(2, 3), float32(math.NaN()), 1e-7}, 2, 2)
	c, err := parity.Compare(got, keras, parity.Tolerance{Atol: 1e-6})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.Write(os.Stdout, "example")
	// Output:
	// example: shape [2 2], 4 elements: OK
	//   largest abs error 2.38e-07 at [0 1]
	//   largest rel error 1 at [1 1]
	//   worst element [0 1]: got 2, Keras 2.00000024
	//   ulp distance histogram: 0: 2, 1: 1, >256: 1
}

// Check a loss on the pure-Go engine against the value Keras' documentation
// gives for tf.keras.losses.BinaryCrossentropy(from_logits=True) (its
// docstring's first example: 0.865), to NumPy's assert_almost_equal(decimal=3).
func ExampleVerify() {
	c := parity.Case{Name: "keras docstring",
		Inputs: map[string]*tfops.Tensor{
			"y_true": tfops.MustFromSlice([]float32{0, 1, 0, 0}, 4),
			"y_pred": tfops.MustFromSlice([]float32{-18.6, 0.51, 2.94, -12.8}, 4),
		},
		Want: map[string]*tfops.Tensor{"loss": tfops.FromScalar(float32(0.865))},
	}
	eng, err := engine.Get("go")
	if err != nil {
		fmt.Println(err)
		return
	}
	run := parity.LossRunner(eng, "keras_bce", map[string]string{"from_logits": "true"})
	fmt.Println(run.What)
	res, err := parity.Verify(context.Background(), []parity.Case{c}, run, parity.Tolerance{Atol: 1.5e-3}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res[0].Name(), res[0].OK())
	// Output:
	// loss keras_bce:from_logits=true
	// keras docstring / loss true
}
