//go:build tensorflow

package tfseg_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/tfops"
)

// zooTol bounds |go - tensorflow| relative to the output's scale (the
// largest |tensorflow| value of that output).
const zooTol = 1e-5

// TestZooMatchesTensorFlow runs every zoo model on both engines with the
// same inputs and compares every output: float outputs within zooTol of the
// output's scale, integer outputs exactly. With -v it prints the zoo table
// the README keeps.
func TestZooMatchesTensorFlow(t *testing.T) {
	var rows []string
	for _, zm := range zoo {
		t.Run(filepath.Base(zm.dir), func(t *testing.T) {
			dir := zooDir(t, zm)
			goM := loadModel(t, dir, tfseg.WithSignatures(zm.sigKey()))
			sig, err := goM.Signature(zm.sigKey())
			require.NoError(t, err)
			in := zooInputs(t, zm, sig)
			ctx := context.Background()
			if zm.tfRefuses != "" {
				_, err := tfseg.Load(dir, tfseg.WithEngine("tensorflow"))
				require.ErrorIs(t, err, engine.ErrUnsupportedOp)
				require.ErrorContains(t, err, zm.tfRefuses)
				got, err := goM.Run(ctx, sig.Key, in)
				require.NoError(t, err, "go engine")
				zm.check(t, in, got)
				rows = append(rows, zooRow(zm, "", 0, "libtensorflow 1.15 refuses it ("+zm.tfRefuses+"); the Go engine's output is checked against the model's known function"))
				return
			}
			tfM := loadModel(t, dir, tfseg.WithEngine("tensorflow"))
			want, err := tfM.Run(ctx, sig.Key, in)
			require.NoError(t, err, "tensorflow engine")
			got, err := goM.Run(ctx, sig.Key, in)
			require.NoError(t, err, "go engine")
			worst := 0.0
			var shapes []string
			for _, spec := range sig.Outputs {
				w, g := want[spec.Name], got[spec.Name]
				require.Equal(t, w.DType(), g.DType(), "output %s", spec.Name)
				require.Equal(t, w.Shape(), g.Shape(), "output %s", spec.Name)
				shapes = append(shapes, fmt.Sprintf("%s %v%v", spec.Name, w.DType(), w.Shape()))
				rel := zooCompare(t, spec.Name, w, g)
				worst = math.Max(worst, rel)
			}
			note := "loads as written"
			if n := tfM.Notes(); len(n) > 0 {
				note = "tensorflow engine: " + strings.Join(n, "; ")
			}
			rows = append(rows, zooRow(zm, strings.Join(shapes, ", "), worst, note))
		})
	}
	sort.Strings(rows)
	t.Logf("model zoo (%d models), both engines on the same inputs:\n| model | what | outputs | max |go - tf| / scale | notes |\n|---|---|---|---|---|\n%s",
		len(rows), strings.Join(rows, "\n"))
}

// zooCompare checks one output and returns max |go - tf| / scale.
func zooCompare(t *testing.T, name string, want, got *tfops.Tensor) float64 {
	t.Helper()
	switch want.DType() {
	case tfops.Float:
		w, g := want.Float32s(), got.Float32s()
		scale := 0.0
		for _, v := range w {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		if scale == 0 {
			scale = 1
		}
		worst, at := 0.0, -1
		for i := range w {
			d := math.Abs(float64(w[i])-float64(g[i])) / scale
			if d > worst || math.IsNaN(d) {
				worst, at = d, i
			}
		}
		if worst > zooTol || math.IsNaN(worst) {
			t.Errorf("output %s element %d: go %v, tensorflow %v: |diff|/scale %.3g > %g (scale %.3g)", name, at, g[at], w[at], worst, zooTol, scale)
		}
		return worst
	case tfops.Int64:
		w, g := want.Int64s(), got.Int64s()
		diff := 0
		for i := range w {
			if w[i] != g[i] {
				diff++
			}
		}
		if diff > 0 {
			t.Errorf("output %s: %d of %d elements differ", name, diff, len(w))
		}
		return 0
	case tfops.Int32:
		require.Equal(t, want.Int32s(), got.Int32s(), "output %s", name)
		return 0
	}
	t.Fatalf("output %s: dtype %v not compared", name, want.DType())
	return 0
}

// zooRow formats one row of the zoo table.
func zooRow(zm zooModel, outputs string, rel float64, note string) string {
	return fmt.Sprintf("| `%s` | %s | %s | %.2g | %s |", zm.dir, zm.what, outputs, rel, note)
}
