//go:build tensorflow

package enginetest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/enginetest"
	"github.com/tfseg/tfseg/engine/goengine"
	_ "github.com/tfseg/tfseg/engine/tfengine"
)

// TestTensorFlowConformance runs the suite on real TensorFlow: it proves
// that every GraphDef tfops builds imports into TensorFlow unchanged and
// that the references describe TensorFlow's semantics.
func TestTensorFlowConformance(t *testing.T) {
	tf, err := engine.Get("tensorflow")
	require.NoError(t, err)
	enginetest.Run(t, tf)
}

// TestCompareGoTensorFlow checks the Go engine against real TensorFlow
// case by case and logs the largest difference per op (go test -v).
func TestCompareGoTensorFlow(t *testing.T) {
	tf, err := engine.Get("tensorflow")
	require.NoError(t, err)
	enginetest.Compare(t, goengine.Engine{}, tf)
}
