package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/npy"
)

// TestWeightmapMatchesSciPy runs `tfseg weightmap` on the weightmap goldens'
// masks (scripts/goldens_weightmap.py, SciPy) and compares with SciPy's maps.
func TestWeightmapMatchesSciPy(t *testing.T) {
	const td = "../../weightmap/testdata"
	raw, err := os.ReadFile(filepath.Join(td, "cases.json"))
	require.NoError(t, err)
	var doc struct {
		Cases []struct {
			Name     string    `json:"name"`
			Mask     string    `json:"mask"`
			Nearest  string    `json:"nearest"`
			Sampling []float64 `json:"sampling"`
			UNet     []struct {
				Class        string    `json:"class"`
				ClassWeights []float64 `json:"class_weights"`
				Connectivity int       `json:"connectivity"`
				File         string    `json:"file"`
				Sigma        float64   `json:"sigma"`
				W0           float64   `json:"w0"`
			} `json:"unet"`
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	n := 0
	for _, c := range doc.Cases {
		if c.Sampling != nil {
			continue // the command has no sampling flag: pixels are square
		}
		type run struct {
			args []string
			file string
		}
		runs := []run{{[]string{"--variant", "nearest"}, c.Nearest}}
		for _, u := range c.UNet {
			cw := u.Class
			if u.Class == "explicit" {
				cw = fmt.Sprintf("%v,%v", u.ClassWeights[0], u.ClassWeights[1])
			}
			runs = append(runs, run{[]string{"--w0", fmt.Sprint(u.W0), "--sigma", fmt.Sprint(u.Sigma),
				"--class-weights", cw, "--connectivity", fmt.Sprint(u.Connectivity)}, u.File})
		}
		for i, r := range runs {
			t.Run(fmt.Sprintf("%s/%d", c.Name, i), func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "w.npy")
				args := append([]string{"weightmap", "--mask", filepath.Join(td, c.Mask), "--out", out}, r.args...)
				code, _, stderr := runCLI(t, args...)
				require.Equal(t, 0, code, stderr)
				got, err := npy.ReadFile(out, npy.Options{})
				require.NoError(t, err)
				want, err := npy.ReadFile(filepath.Join(td, r.file), npy.Options{})
				require.NoError(t, err)
				require.Equal(t, want.Shape(), got.Shape())
				for k, w := range want.Float64s() {
					g := float64(got.Float32s()[k])
					assert.LessOrEqual(t, math.Abs(g-w), 1e-5*math.Max(1, math.Abs(w)), "element %d: want %v got %v", k, w, g)
				}
			})
			n++
		}
	}
	require.Greater(t, n, 20)
}

func TestWeightmapBadInput(t *testing.T) {
	dir := t.TempDir()
	nonBinary := filepath.Join(dir, "nb.npy")
	writeNpy(t, nonBinary, docTensor{Shape: []int{2, 2}, Data: []float64{0, 1, 2, 0}})
	rank1 := filepath.Join(dir, "r1.npy")
	writeNpy(t, rank1, docTensor{Shape: []int{4}, Data: []float64{0, 1, 1, 0}})
	garbage := filepath.Join(dir, "g.png")
	require.NoError(t, os.WriteFile(garbage, []byte("\x89PNG nope"), 0o644))
	out := filepath.Join(dir, "w.npy")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"non-binary", []string{"--mask", nonBinary}, 1, "nb.npy"},
		{"wrong rank", []string{"--mask", rank1}, 1, "shape [4]"},
		{"unreadable png", []string{"--mask", garbage}, 1, "g.png"},
		{"missing", []string{"--mask", filepath.Join(dir, "none.npy")}, 1, "none.npy"},
		{"bad variant", []string{"--mask", nonBinary, "--variant", "x"}, 2, "variant"},
		{"bad connectivity", []string{"--mask", nonBinary, "--connectivity", "6"}, 2, "connectivity"},
		{"bad class weights", []string{"--mask", nonBinary, "--class-weights", "1"}, 2, "class-weights"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append(append([]string{"weightmap"}, c.args...), "--out", out, "--png", filepath.Join(dir, "w.png"))...)
			assert.Equal(t, c.code, code, stderr)
			assert.True(t, strings.Contains(stderr, c.want), "stderr %q lacks %q", stderr, c.want)
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				assert.NotContains(t, []string{"w.npy", "w.png"}, e.Name(), "no output on error")
			}
		})
	}
}
