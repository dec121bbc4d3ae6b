package goengine_test

import (
	"context"
	"fmt"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

// The Go engine fuses chains of elementwise ops and their reductions into
// one pass over memory; Engine{Unfused: true} runs every node with its own
// kernel instead. Both give the same bits.
func ExampleEngine_unfused() {
	s := tfops.NewScope()
	x := tfops.Placeholder(s.WithOpName("x"), tfops.Float, tfops.UnknownShape())
	// mean(log1p(exp(-|x|))): softplus(-|x|), a block of cross entropy.
	loss := tfops.Mean(s.WithOpName("loss"), tfops.Log1p(s, tfops.Exp(s, tfops.Neg(s, tfops.Abs(s, x)))), []int{0}, false)
	gd, err := s.Finalize()
	if err != nil {
		fmt.Println(err)
		return
	}
	feeds := map[string]*tfops.Tensor{"x": tfops.MustFromSlice([]float32{-2, -0.5, 0, 0.5, 2}, 5)}
	for _, eng := range []goengine.Engine{{}, {Unfused: true}} {
		sess, err := eng.NewSession(gd, engine.SessionOptions{})
		if err != nil {
			fmt.Println(err)
			return
		}
		out, err := sess.Run(context.Background(), feeds, []string{loss.Name()}, nil)
		sess.Close()
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("unfused=%v: %.6f\n", eng.Unfused, out[0].Float32s()[0])
	}
	// Output:
	// unfused=false: 0.379031
	// unfused=true: 0.379031
}
