package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/engine"
)

// assertEmptyDir fails unless dir holds nothing (no output, no staging).
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	assert.Empty(t, names, "left behind in %s", dir)
}

// evalOutputs returns eval's flags writing every output into out.
func evalOutputs(out string) []string {
	return []string{"--csv", filepath.Join(out, "r.csv"), "--json", filepath.Join(out, "r.json"),
		"--html", filepath.Join(out, "r.html"), "--overlays", filepath.Join(out, "overlays")}
}

// TestNoPartialOutput: a bad mask, or a truncated PNG with --overlays,
// fails the run (status 1) after other images were evaluated and their
// cards rendered, and leaves no file or folder behind.
func TestNoPartialOutput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, images, masks string)
		want  string
	}{
		{"bad mask", func(t *testing.T, images, masks string) {
			require.NoError(t, os.WriteFile(filepath.Join(masks, "circle_00005.png"), []byte("not a png"), 0o644))
		}, "circle_00005.png"},
		{"truncated png", func(t *testing.T, images, masks string) {
			p := filepath.Join(images, "circle_00005.png")
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, data[:len(data)/2], 0o644))
		}, "circle_00005.png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			model, images, masks := writeDemoData(t, 8)
			tc.spoil(t, images, masks)
			out := t.TempDir()
			args := append([]string{"eval", "--model", model, "--images", images, "--masks", masks, "--batch", "1", "--overlays-all"}, evalOutputs(out)...)
			code, _, stderr := runCLI(t, args...)
			assert.Equal(t, exitInput, code, stderr)
			assert.Contains(t, stderr, tc.want)
			assertEmptyDir(t, out)
		})
	}
}

// TestOverlaysNotReplacingForeignDir: --overlays naming a folder of other
// files is bad input, found before evaluating; the folder is untouched.
func TestOverlaysNotReplacingForeignDir(t *testing.T) {
	model, images, masks := writeDemoData(t, 2)
	code, _, stderr := runCLI(t, "eval", "--model", model, "--images", images, "--masks", masks, "--overlays", images)
	assert.Equal(t, exitInput, code, stderr)
	assert.Contains(t, stderr, "was not written by tfseg")
	ents, err := os.ReadDir(images)
	require.NoError(t, err)
	assert.Len(t, ents, 2)
}

// TestFailUnder: --fail-under gives status 4 on the Keras U-Net fixture
// (it predicts no foreground) with the failing checks listed, and status
// 0 on the demo's baseline model; the outputs are written either way. A
// column the report lacks is bad input (nothing written), a malformed
// check a usage error.
func TestFailUnder(t *testing.T) {
	fix := fixture(t, "keras-unet-circles")
	dir := t.TempDir()
	c := baseline.DefaultCircles
	c.Height, c.Width = 100, 100
	require.NoError(t, c.WriteDir(dir, 4))
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "eval", "--model", fix, "--images", filepath.Join(dir, "images"), "--masks", filepath.Join(dir, "masks"),
		"--fail-under", "dice_coef[1]=0.8", "--fail-under", "min:iou[0]=0.5", "--json", filepath.Join(out, "r.json"))
	assert.Equal(t, exitThreshold, code, stderr)
	assert.Contains(t, stdout, "fail-under mean dice_coef[1] 0.0000 >= 0.8: FAILED")
	assert.Contains(t, stdout, "fail-under min iou[0] ")
	assert.Contains(t, stderr, "1 of the --fail-under checks failed: mean dice_coef[1] 0.0000 >= 0.8: FAILED")
	assert.FileExists(t, filepath.Join(out, "r.json"))

	model, images, masks := writeDemoData(t, 6)
	code, stdout, stderr = runCLI(t, "eval", "--model", model, "--images", images, "--masks", masks,
		"--fail-under", "dice_coef=0.9", "--fail-under", "min:dice_coef=0.5")
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "fail-under mean dice_coef ")
	assert.NotContains(t, stdout, "FAILED")

	out = t.TempDir()
	code, _, stderr = runCLI(t, append([]string{"eval", "--model", model, "--images", images, "--masks", masks, "--fail-under", "dice=0.9"}, evalOutputs(out)...)...)
	assert.Equal(t, exitInput, code, stderr)
	assert.Contains(t, stderr, `no column "dice"`)
	assertEmptyDir(t, out)
	code, _, _ = runCLI(t, "eval", "--model", model, "--images", images, "--masks", masks, "--fail-under", "dice_coef>0.9")
	assert.Equal(t, exitUsage, code)
}

// TestDemoUnavailableEngine: demo with an engine this binary lacks fails
// before writing anything.
func TestDemoUnavailableEngine(t *testing.T) {
	engines := []string{"nosuch"}
	if _, err := engine.Get("tensorflow"); err != nil {
		engines = append(engines, "tensorflow") // the default build
	}
	for _, name := range engines {
		parent := t.TempDir()
		code, stdout, stderr := runCLI(t, "demo", "--out", filepath.Join(parent, "demo"), "--engine", name)
		assert.Equal(t, exitInput, code, stderr)
		assert.Contains(t, stderr, "unknown engine")
		assert.Empty(t, stdout)
		assertEmptyDir(t, parent)
	}
}

// TestInterrupt builds tfseg, starts an evaluation writing every output,
// sends SIGINT once it has started and checks: status 130, "interrupted",
// nothing left behind.
func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "tfseg")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	dir := t.TempDir()
	model := filepath.Join(dir, "model")
	require.NoError(t, baseline.WriteModel(model, baseline.DefaultCalibration))
	c := baseline.DefaultCircles
	c.Height, c.Width = 256, 256
	require.NoError(t, c.WriteDir(filepath.Join(dir, "data"), 200))
	out := t.TempDir()
	cmd := exec.Command(bin, append([]string{"eval", "--model", model, "--images", filepath.Join(dir, "data", "images"),
		"--masks", filepath.Join(dir, "data", "masks"), "--batch", "1", "--workers", "1", "--overlays-all"}, evalOutputs(out)...)...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(stderr)
	var got []string
	started := false
	for lines.Scan() {
		got = append(got, lines.Text())
		if !started && strings.HasPrefix(lines.Text(), "eval: ") {
			// Images are being evaluated and cards written to the staging directory.
			started = true
			require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("tfseg did not stop after SIGINT")
	}
	require.True(t, started, "no progress line: %q", got)
	assert.Equal(t, exitInterrupted, cmd.ProcessState.ExitCode(), "%q", got)
	assert.Equal(t, "tfseg eval: interrupted", got[len(got)-1])
	assertEmptyDir(t, out)
	t.Logf("stderr: %q", got)
}
