//go:build tensorflow

package tfengine_test

import (
	"context"
	"fmt"
	"log"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/tfengine" // importing it registers "tensorflow"
	"github.com/tfseg/tfseg/tfops"
)

// Build a graph with tfops and run it on real TensorFlow.
func ExampleEngine_NewSession() {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(-1))
	y := tfops.Log1p(s.WithOpName("y"), x)
	graph, err := s.Finalize()
	if err != nil {
		log.Fatal(err)
	}

	e, err := engine.Get("tensorflow")
	if err != nil {
		log.Fatal(err)
	}
	sess, err := e.NewSession(graph, engine.SessionOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer sess.Close()

	out, err := sess.Run(context.Background(),
		map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float32{0, 3})},
		[]string{y.Name()}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.5f\n", out[0].Float32s())
	// Output: [0.00000 1.38629]
}

// Load a SavedModel with TensorFlow's own loader and run its serving
// signature, looking the tensor names up in the signature.
func ExampleEngine_LoadSavedModel() {
	e, err := engine.Get("tensorflow")
	if err != nil {
		log.Fatal(err)
	}
	loaded, err := e.(engine.SavedModelLoader).LoadSavedModel("path/to/saved_model", []string{"serve"}, engine.SessionOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer loaded.Close()

	sig := loaded.(*tfengine.Session).Signatures()["serving_default"]
	out, err := loaded.Run(context.Background(),
		map[string]*tfops.Tensor{sig.Inputs["x"].Name: tfops.MustFromSlice([]float32{2}, 1, 1)},
		[]string{sig.Outputs["y"].Name}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out[0].Float32s())
}
