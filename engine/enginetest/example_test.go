package enginetest_test

import (
	"fmt"
	"testing"

	"github.com/tfseg/tfseg/engine/enginetest"
	"github.com/tfseg/tfseg/engine/goengine"
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
