package engine_test

import (
	"context"
	"fmt"

	"github.com/tfseg/tfseg/engine"
	_ "github.com/tfseg/tfseg/engine/goengine" // registers "go"
	"github.com/tfseg/tfseg/tfops"
)

// ExampleGet builds x + log1p(x) with tfops and runs it on the engine
// registered as "go".
func ExampleGet() {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.MakeShape(-1))
	y := tfops.AddV2(s.WithOpName("y"), x, tfops.Log1p(s, x))
	gd, err := s.Finalize()
	if err != nil {
		panic(err)
	}
	eng, err := engine.Get(engine.Default)
	if err != nil {
		panic(err)
	}
	sess, err := eng.NewSession(gd, engine.SessionOptions{})
	if err != nil {
		panic(err)
	}
	defer sess.Close()
	out, err := sess.Run(context.Background(),
		map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float32{0, 1}, 2)}, []string{y.Name()}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(out[0].Float32s())
	_, err = engine.Get("cuda")
	fmt.Println(err)
	// Output:
	// [0 1.6931472]
	// engine: unknown engine "cuda"; available: go
}
