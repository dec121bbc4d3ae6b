package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/engine"
	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/tfops"
)

// exitCases returns, for one command, a command line with bad input (exit
// 1) and one that works (exit 0), using files under dir; nil for a
// command that reads no input (stated per command).
type exitCases func(t *testing.T, dir string) (bad, good []string)

// commandCases has an entry per command: TestExitStatus fails for a
// command registered without one, so a new command gets its cases.
var commandCases = map[string]exitCases{
	"compare": func(t *testing.T, dir string) ([]string, []string) {
		model, images, masks := writeDemoData(t, 3)
		a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
		code, _, stderr := runCLI(t, "eval", "--model", model, "--images", images, "--masks", masks, "--json", a)
		require.Equal(t, 0, code, stderr)
		code, _, stderr = runCLI(t, "eval", "--model", model, "--images", images, "--masks", masks, "--json", b, "--metric", "iou")
		require.Equal(t, 0, code, stderr)
		return []string{"compare", a, filepath.Join(dir, "none.json")}, []string{"compare", a, b, "--html", filepath.Join(dir, "c.html")}
	},
	"demo": func(t *testing.T, dir string) ([]string, []string) {
		foreign := filepath.Join(dir, "foreign")
		require.NoError(t, os.MkdirAll(foreign, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(foreign, "mine.txt"), nil, 0o644))
		return []string{"demo", "--out", foreign}, []string{"demo", "--out", filepath.Join(dir, "demo"), "--images", "2"}
	},
	"engines": nil, // no input: it lists the engines built in
	"eval": func(t *testing.T, dir string) ([]string, []string) {
		model, images, masks := writeDemoData(t, 2)
		return []string{"eval", "--model", filepath.Join(dir, "none"), "--images", images, "--masks", masks},
			[]string{"eval", "--model", model, "--images", images, "--masks", masks}
	},
	"export": func(t *testing.T, dir string) ([]string, []string) {
		return []string{"export", "nope", "--out", filepath.Join(dir, "nope")}, []string{"export", "dice", "--out", filepath.Join(dir, "dice")}
	},
	"inspect": func(t *testing.T, dir string) ([]string, []string) {
		model := filepath.Join(dir, "model")
		require.NoError(t, baseline.WriteModel(model, baseline.DefaultCalibration))
		return []string{"inspect", filepath.Join(dir, "none")}, []string{"inspect", model}
	},
	"loss": func(t *testing.T, dir string) ([]string, []string) {
		y := filepath.Join(dir, "y.npy")
		writeNpy(t, y, docTensor{Shape: []int{2, 2}, Data: []float64{0, 1, 1, 0}})
		return []string{"loss", "dice", "--y-true", filepath.Join(dir, "none.npy"), "--y-pred", y},
			[]string{"loss", "dice", "--y-true", y, "--y-pred", y}
	},
	"losses": func(t *testing.T, dir string) ([]string, []string) {
		return []string{"losses", "nope"}, []string{"losses", "dice"}
	},
	"run": func(t *testing.T, dir string) ([]string, []string) {
		model := filepath.Join(dir, "model")
		require.NoError(t, baseline.WriteModel(model, baseline.DefaultCalibration))
		x := filepath.Join(dir, "x.npy")
		writeNpy(t, x, docTensor{Shape: []int{1, 8, 8, 1}, Data: make([]float64, 64)})
		return []string{"run", model, "--in", "image=" + filepath.Join(dir, "none.npy"), "--out", filepath.Join(dir, "o1")},
			[]string{"run", model, "--in", "image=" + x, "--out", filepath.Join(dir, "o2")}
	},
	// serve runs until it is stopped: its good case (status 0 after a
	// SIGTERM-style shutdown) is TestServeCommand.
	"serve": func(t *testing.T, dir string) ([]string, []string) {
		return []string{"serve", "--model_base_path", filepath.Join(dir, "none"), "--port", "0", "--host", "127.0.0.1"}, nil
	},
	"verify": func(t *testing.T, dir string) ([]string, []string) {
		model := filepath.Join(dir, "model")
		require.NoError(t, baseline.WriteModel(model, baseline.DefaultCalibration))
		cases := filepath.Join(dir, "cases")
		baselineCase(t, cases, 1)
		return []string{"verify", "--model", model, "--cases", filepath.Join(dir, "none")},
			[]string{"verify", "--model", model, "--cases", cases, "--atol", "2e-6"}
	},
	"weightmap": func(t *testing.T, dir string) ([]string, []string) {
		m := filepath.Join(dir, "m.npy")
		writeNpy(t, m, docTensor{Shape: []int{4, 4}, Data: []float64{0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0}})
		return []string{"weightmap", "--mask", filepath.Join(dir, "none.npy"), "--out", filepath.Join(dir, "w1.npy")},
			[]string{"weightmap", "--mask", m, "--out", filepath.Join(dir, "w2.npy")}
	},
}

// TestExitStatus checks the exit status table (README.md, main.go) on
// every command: help on stdout with status 0 (help CMD, CMD --help,
// CMD -h), a usage error as one line and a hint with status 2, bad input 1
// and a good run 0, each message with one "tfseg CMD: " prefix.
func TestExitStatus(t *testing.T) {
	for _, name := range commandNames() {
		t.Run(name, func(t *testing.T) {
			for _, args := range [][]string{{"help", name}, {name, "--help"}, {name, "-h"}} {
				code, stdout, stderr := runCLI(t, args...)
				assert.Equal(t, exitOK, code, "%q: %s", args, stderr)
				assert.True(t, strings.HasPrefix(stdout, "usage: tfseg "+name), "%q: help on stdout, got %q", args, stdout)
				assert.Contains(t, stdout, exitTable)
				assert.Empty(t, stderr, "%q", args)
			}
			code, stdout, stderr := runCLI(t, name, "--no-such-flag")
			assert.Equal(t, exitUsage, code, stderr)
			assert.Empty(t, stdout)
			assert.Equal(t, "tfseg "+name+": flag provided but not defined: -no-such-flag\nsee tfseg help "+name+"\n", stderr)

			cases, ok := commandCases[name]
			require.True(t, ok, "command %s has no entry in commandCases", name)
			if cases == nil {
				code, _, stderr := runCLI(t, name)
				assert.Equal(t, exitOK, code, stderr)
				return
			}
			bad, good := cases(t, t.TempDir())
			code, _, stderr = runCLI(t, bad...)
			assert.Equal(t, exitInput, code, "%q: %s", bad, stderr)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one message: %q", stderr)
			rest, ok := strings.CutPrefix(stderr, "tfseg "+name+": ")
			assert.True(t, ok, "prefix: %q", stderr)
			assert.False(t, strings.HasPrefix(rest, "tfseg") || strings.HasPrefix(rest, name+":"), "one prefix: %q", stderr)
			if good != nil {
				code, _, stderr = runCLI(t, good...)
				assert.Equal(t, exitOK, code, "%q: %s", good, stderr)
			}
		})
	}
}

// TestCommandLine covers the rest of the table and the messages: the
// command list, unknown commands, an unknown loss (status 1 in loss and
// eval alike), a --in without NAME= (one message), a kernel panic (3).
func TestCommandLine(t *testing.T) {
	code, stdout, stderr := runCLI(t, "help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "commands:")
	assert.Contains(t, stdout, exitTable)
	assert.Empty(t, stderr)

	code, _, stderr = runCLI(t)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "commands:")

	code, _, stderr = runCLI(t, "nope")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `unknown command "nope"`)
	code, _, _ = runCLI(t, "help", "nope")
	assert.Equal(t, exitUsage, code)

	dir := t.TempDir()
	y := filepath.Join(dir, "y.npy")
	writeNpy(t, y, docTensor{Shape: []int{2, 2}, Data: []float64{0, 1, 1, 0}})
	model, images, masks := writeDemoData(t, 1)
	lossCode, _, lossErr := runCLI(t, "loss", "nope", "--y-true", y, "--y-pred", y)
	evalCode, _, evalErr := runCLI(t, "eval", "--model", model, "--images", images, "--masks", masks, "--loss", "nope")
	assert.Equal(t, exitInput, lossCode, lossErr)
	assert.Equal(t, lossCode, evalCode, evalErr)
	assert.Equal(t, 1, strings.Count(evalErr, "\n"), "one line: %q", evalErr)

	code, _, stderr = runCLI(t, "run", model, "--in", y, "--out", filepath.Join(dir, "out"))
	assert.Equal(t, exitUsage, code)
	assert.Equal(t, 1, strings.Count(stderr, "NAME=FILE.npy"), "the error once: %q", stderr)
	assert.Equal(t, 2, strings.Count(stderr, "\n"), "one line and the hint: %q", stderr)

	// run takes NumPy's default float64 for a float32 input, with a note.
	x64 := filepath.Join(dir, "x64.npy")
	require.NoError(t, npy.WriteFile(x64, tfops.MustFromSlice(make([]float64, 64), 1, 8, 8, 1)))
	code, stdout, stderr = runCLI(t, "run", model, "--in", "image="+x64, "--out", filepath.Join(dir, "out64"))
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "input image: float64 rounded to the signature's float32")
	assert.Contains(t, stdout, "probability: float32")

	// Masks named IMAGE_mask: the error suggests --mask-suffix, which works.
	model2, images2, masks2 := writeDemoData(t, 2)
	for _, n := range []string{"circle_00000", "circle_00001"} {
		require.NoError(t, os.Rename(filepath.Join(masks2, n+".png"), filepath.Join(masks2, n+"_mask.png")))
	}
	code, _, stderr = runCLI(t, "eval", "--model", model2, "--images", images2, "--masks", masks2)
	assert.Equal(t, exitInput, code)
	assert.Contains(t, stderr, "add --mask-suffix _mask")
	code, _, stderr = runCLI(t, "eval", "--model", model2, "--images", images2, "--masks", masks2, "--mask-suffix", "_mask")
	assert.Equal(t, exitOK, code, stderr)

	// A kernel panic is a bug: status 3, told by the sentinel, not the text.
	assert.Equal(t, exitInternal, exitCode(fmt.Errorf("eval: %w: %w: node \"x\"", engine.ErrKernel, engine.ErrPanic)))
	assert.Equal(t, exitInput, exitCode(fmt.Errorf("%w: node \"x\": panic: in a message", engine.ErrKernel)))
	assert.Equal(t, exitThreshold, exitCode(&thresholdError{[]string{"x"}}))
}
