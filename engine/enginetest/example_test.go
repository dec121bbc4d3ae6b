package enginetest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/enginetest"
	"github.com/tfseg/tfseg/engine/goengine"
	"github.com/tfseg/tfseg/tfops"
)

// An engine's test file runs the whole suite with one call.
func ExampleRun() {
	_ = func(t *testing.T) { enginetest.Run(t, goengine.Engine{}) }
	fmt.Println(len(enginetest.Cases()) > 0)
	// Output: true
}

// Compare checks two engines against each other.
func ExampleCompare() {
	_ = func(t *testing.T) { enginetest.Compare(t, goengine.Engine{}, goengine.Engine{}) }
	fmt.Println("ok")
	// Output: ok
}

// Cases lists what the suite checks.
func ExampleCases() {
	for _, c := range enginetest.Cases() {
		if c.Name == "GatherV2/float32/batch-dims" {
			fmt.Println(c.Op, "-", c.Description)
		}
	}
	// Output: GatherV2 - batch_dims 1: each batch gathers from its own row
}

func TestCompareGoWithItself(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every case twice")
	}
	enginetest.Compare(t, goengine.Engine{}, goengine.Engine{})
}

// NewFunc writes the body of a While, If or Case: here x·x + 1, the then
// branch of a StatelessIf run on the Go engine.
func ExampleNewFunc() {
	f := enginetest.NewFunc("square_plus_one", enginetest.Arg{Name: "x", DType: tfops.Float})
	sq := f.Op("Mul", "square", map[string]any{"T": tfops.Float}, "x", "x")
	f.Ret("y", tfops.Float, f.Op("AddV2", "plus_one", map[string]any{"T": tfops.Float}, sq, f.Const("one", tfops.FromScalar(float32(1)))))
	s := tfops.NewScope()
	f.AddTo(s)
	x := tfops.Const(s.WithOpName("x"), tfops.MustFromSlice([]float32{1, 2, 3}, 3))
	y := s.AddOp(tfops.OpSpec{Type: "StatelessIf", Name: "if", Inputs: []any{tfops.Const(s.WithOpName("cond"), tfops.FromScalar(true)), x},
		Attrs: map[string]any{"Tcond": tfops.Bool, "Tin": []tfops.DType{tfops.Float}, "Tout": []tfops.DType{tfops.Float},
			"then_branch": tfops.Func{Name: f.Name()}, "else_branch": tfops.Func{Name: f.Name()}},
		Outputs: []tfops.OutputInfo{{DType: tfops.Float}}})
	gd, err := s.Finalize()
	if err != nil {
		fmt.Println(err)
		return
	}
	sess, err := goengine.Engine{}.NewSession(gd, engine.SessionOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close()
	out, err := sess.Run(context.Background(), nil, []string{y.Output(0).Name()}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out[0].Float32s())
	// Output: [2 5 10]
}
