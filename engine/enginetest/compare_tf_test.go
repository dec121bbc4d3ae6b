//go:build tensorflow

package enginetest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	tf "github.com/wamuir/graft/tensorflow"

	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/engine/enginetest"
	"github.com/tfseg/tfseg/engine/goengine"
	_ "github.com/tfseg/tfseg/engine/tfengine"
)

// tfCases is the suite less the TF2 cases when the linked library is
// TensorFlow 1.x, whose older Eigen differs there.
func tfCases(t *testing.T) []enginetest.Case {
	all := enginetest.Cases()
	if !strings.HasPrefix(tf.Version(), "1.") {
		return all
	}
	var cs []enginetest.Case
	for _, c := range all {
		if !c.TF2 {
			cs = append(cs, c)
		}
	}
	t.Logf("TensorFlow %s: skipping %d cases that follow TensorFlow 2 semantics", tf.Version(), len(all)-len(cs))
	return cs
}

// TestTensorFlowConformance runs the suite on real TensorFlow: it proves
// that every GraphDef tfops builds imports into TensorFlow unchanged and
// that the references describe TensorFlow's semantics.
func TestTensorFlowConformance(t *testing.T) {
	e, err := engine.Get("tensorflow")
	require.NoError(t, err)
	enginetest.RunCases(t, e, tfCases(t))
}

// TestCompareGoTensorFlow checks the Go engine against real TensorFlow
// case by case and logs the largest difference per op (go test -v).
func TestCompareGoTensorFlow(t *testing.T) {
	e, err := engine.Get("tensorflow")
	require.NoError(t, err)
	enginetest.CompareCases(t, goengine.Engine{}, e, tfCases(t))
}
