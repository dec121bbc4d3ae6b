package main

import (
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/baseline"
)

// chromium returns Debian's headless browser; under CI=true its absence
// fails the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found under CI (.ci/run installs Debian's chromium)")
	}
	t.Skip("chromium not found (apt-get install chromium)")
	return ""
}

// browse loads page in headless Chromium, with no network, and returns
// what the page logged to its console (every message counts: the page
// logs nothing when it works) and the DOM after its scripts ran. With
// screenshot set, it also writes a 1280 px wide screenshot there.
func browse(t *testing.T, bin, page, screenshot string) (console []string, dom string) {
	t.Helper()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir(),
		"--enable-logging=stderr", "--v=0"}
	abs, err := filepath.Abs(page)
	require.NoError(t, err)
	url := "file://" + abs
	if screenshot != "" {
		out, err := exec.Command(bin, append(args, "--screenshot="+screenshot, "--window-size=1280,2000", url)...).CombinedOutput()
		require.NoError(t, err, "%s", out)
		console = append(console, consoleLines(string(out))...)
	}
	cmd := exec.Command(bin, append(args, "--dump-dom", url)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	return append(console, consoleLines(stderr.String())...), string(out)
}

func consoleLines(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, ":CONSOLE") {
			out = append(out, l)
		}
	}
	return out
}

var networkRef = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:|//)`)

// checkPage loads an HTML report in Chromium: no console message, the
// script ran (data-ready), every section there, no network reference,
// a screenshot of the expected width.
func checkPage(t *testing.T, bin, page, shot string, gallery int, perClass bool) {
	t.Helper()
	raw, err := os.ReadFile(page)
	require.NoError(t, err)
	assert.False(t, networkRef.Match(raw), "the page refers to the network")
	console, dom := browse(t, bin, page, shot)
	assert.Empty(t, console, "console messages of %s", page)
	assert.Contains(t, dom, `data-ready="1"`, "the page's script ran to its end")
	for _, s := range []string{"Model and dataset", "Summary", "Distributions", "Confusion matrix", "Per image", "<svg"} {
		assert.Contains(t, dom, s)
	}
	assert.Equal(t, gallery, strings.Count(dom, `src="data:image/png;base64,`), "gallery cards inlined")
	assert.Equal(t, perClass, strings.Contains(dom, "Per class"))
	f, err := os.Open(shot)
	require.NoError(t, err)
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	require.NoError(t, err)
	assert.Equal(t, 1280, cfg.Width)
	t.Logf("screenshot of %s: %s", page, shot)
}

// screenshotDir is where the browser test leaves its screenshots (test
// output): $TFSEG_SCREENSHOT_DIR, or tfseg-html-screenshots in the
// temporary directory.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("TFSEG_SCREENSHOT_DIR")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "tfseg-html-screenshots")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// TestHTMLReportInBrowser writes the HTML reports of tfseg demo and of the
// Keras U-Net fixture and loads them in headless Chromium. A page with a
// script error is caught (the check can fail).
func TestHTMLReportInBrowser(t *testing.T) {
	bin := chromium(t)
	shots := screenshotDir(t)

	bad := filepath.Join(t.TempDir(), "bad.html")
	require.NoError(t, os.WriteFile(bad, []byte(`<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body><script>nosuch()</script></body></html>`), 0o644))
	console, _ := browse(t, bin, bad, "")
	assert.NotEmpty(t, console, "a script error must show in the console log")

	out := filepath.Join(t.TempDir(), "demo")
	code, _, stderr := runCLI(t, "demo", "--out", out, "--images", "24")
	require.Equal(t, 0, code, stderr)
	checkPage(t, bin, filepath.Join(out, "report.html"), filepath.Join(shots, "demo-report.png"), htmlGallery, false)

	fix := fixture(t, "keras-unet-circles")
	dir := t.TempDir()
	c := baseline.DefaultCircles
	c.Height, c.Width = 100, 100
	require.NoError(t, c.WriteDir(dir, 20))
	page := filepath.Join(dir, "unet.html")
	unetJSON := filepath.Join(dir, "unet.json")
	code, _, stderr = runCLI(t, "eval", "--model", fix, "--images", filepath.Join(dir, "images"), "--masks", filepath.Join(dir, "masks"), "--html", page, "--json", unetJSON)
	require.Equal(t, 0, code, stderr)
	checkPage(t, bin, page, filepath.Join(shots, "unet-report.png"), htmlGallery, true)

	// tfseg compare --html: the baseline against the U-Net on the same images.
	model := filepath.Join(dir, "baseline")
	require.NoError(t, baseline.WriteModel(model, baseline.DefaultCalibration))
	baseJSON := filepath.Join(dir, "baseline.json")
	code, _, stderr = runCLI(t, "eval", "--model", model, "--images", filepath.Join(dir, "images"), "--masks", filepath.Join(dir, "masks"), "--json", baseJSON)
	require.Equal(t, 0, code, stderr)
	cmp := filepath.Join(dir, "compare.html")
	code, stdout, stderr := runCLI(t, "compare", baseJSON, unetJSON, "--html", cmp)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "dice_coef / dice_coef[1]")
	shot := filepath.Join(shots, "compare.png")
	console, dom := browse(t, bin, cmp, shot)
	assert.Empty(t, console)
	assert.Contains(t, dom, `data-ready="1"`)
	assert.Contains(t, dom, "Differences (B - A)")
	t.Logf("screenshot of %s: %s", cmp, shot)
}
