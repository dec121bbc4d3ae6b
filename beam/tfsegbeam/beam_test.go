package tfsegbeam_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tfseg/tfseg/baseline"
)

// TestDemoSameAsEval: on the demo's model and dataset, tfseg-beam on Prism
// (in process) writes the rows and the summary of tfseg eval. Its batches
// (3 images) differ from tfseg eval's (8) on purpose.
func TestDemoSameAsEval(t *testing.T) {
	model, images, masks := demoData(t, 100)
	refCSV, ref := reference(t, model, images, masks, false)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runBeam(t, nil, "eval", "--model", model, "--images", images, "--masks", masks, "--out", out, "--batch", "3", "--shards", "3")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "100 images (0 skipped)") {
		t.Errorf("stdout %q: want the image count from Beam's metrics", stdout)
	}
	compareWithEval(t, out, refCSV, ref)
	for i := range 3 {
		if _, err := os.Stat(filepath.Join(out, fmt.Sprintf("rows-%05d-of-00003.jsonl", i))); err != nil {
			t.Error(err)
		}
	}
}

// TestKerasUNetSameAsEval: the Keras U-Net fixture (100x100 in, 60x60 out,
// two-class softmax) on noisy circles: cropped masks, per-class columns.
func TestKerasUNetSameAsEval(t *testing.T) {
	model := fixture(t, "keras-unet-circles")
	dir := t.TempDir()
	c := baseline.DefaultCircles
	c.Height, c.Width = 100, 100
	if err := c.WriteDir(filepath.Join(dir, "data"), 24); err != nil {
		t.Fatal(err)
	}
	images, masks := filepath.Join(dir, "data", "images"), filepath.Join(dir, "data", "masks")
	refCSV, ref := reference(t, model, images, masks, false)
	out := filepath.Join(dir, "out")
	code, _, stderr := runBeam(t, nil, "eval", "--model", model, "--images", images, "--masks", masks, "--out", out, "--batch", "5", "--workers", "2")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	compareWithEval(t, out, refCSV, ref)
	var notes []string
	if err := json.Unmarshal(ref.Notes, &notes); err != nil || !strings.Contains(strings.Join(notes, "\n"), "100x100 -> 60x60") {
		t.Errorf("reference notes %s: want the crop", ref.Notes)
	}
}

// TestPortableJobServer runs the pipeline through a standalone Prism job
// server (the Beam module's cmd/prism) with --runner=universal: the
// portable path Flink and Spark job servers take, with LOOPBACK workers and
// with PROCESS workers (this binary started by the runner as the worker).
func TestPortableJobServer(t *testing.T) {
	model, images, masks := demoData(t, 40)
	refCSV, ref := reference(t, model, images, masks, false)
	endpoint := startPrism(t)
	self := filepath.Join(bin, "tfseg-beam")
	for _, env := range [][]string{
		{"--environment_type=LOOPBACK"},
		{"--environment_type=PROCESS", fmt.Sprintf(`--environment_config={"command": %q}`, self)},
	} {
		t.Run(strings.TrimPrefix(env[0], "--environment_type="), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"eval", "--model", model, "--images", images, "--masks", masks, "--out", out,
				"--runner=universal", "--endpoint=" + endpoint}, env...)
			code, _, stderr := runBeam(t, nil, args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			compareWithEval(t, out, refCSV, ref)
		})
	}
}

// faultyData writes the demo's dataset with, in the middle, a corrupt
// image, a mask of the wrong size and an unreadable image (a link to
// nothing: the tests may run as root, whom file modes do not stop).
func faultyData(t *testing.T) (model, images, masks string, bad map[string]string) {
	t.Helper()
	model, images, masks = demoData(t, 30)
	corrupt := filepath.Join(images, "circle_00011.png")
	if err := os.WriteFile(corrupt, []byte("\x89PNG\r\n\x1a\n this is not a PNG"), 0o644); err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(masks, "circle_00015.png")
	c := baseline.DefaultCircles
	c.Height, c.Width = 20, 20
	tmp := t.TempDir()
	if err := c.WriteDir(tmp, 1); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(tmp, "masks", "circle_00000.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(small, data, 0o644); err != nil {
		t.Fatal(err)
	}
	unreadable := filepath.Join(images, "circle_00019.png")
	if err := os.Remove(unreadable); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(tmp, "gone.png"), unreadable); err != nil {
		t.Fatal(err)
	}
	bad = map[string]string{"circle_00011": corrupt, "circle_00015": small, "circle_00019": unreadable}
	return model, images, masks, bad
}

// TestFaults: with --skip-bad the run finishes, the rows and summary are
// tfseg eval --skip-bad's and the dead-letter output lists the three bad
// images with tfseg eval's errors; without it, the exit status is 1, the
// error names a bad file, and nothing is written.
func TestFaults(t *testing.T) {
	model, images, masks, bad := faultyData(t)
	refCSV, ref := reference(t, model, images, masks, true)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runBeam(t, nil, "eval", "--model", model, "--images", images, "--masks", masks, "--out", out, "--skip-bad")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "30 images (3 skipped)") {
		t.Errorf("stdout %q: want 30 images, 3 skipped", stdout)
	}
	compareWithEval(t, out, refCSV, ref)
	data, err := os.ReadFile(filepath.Join(out, "dead-letter.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var refSkipped []struct{ Name, Reason string }
	if err := json.Unmarshal(ref.Skipped, &refSkipped); err != nil || len(refSkipped) != 3 {
		t.Fatalf("reference skipped %s (%v): want 3", ref.Skipped, err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 3 {
		t.Fatalf("dead letters:\n%s\nwant 3", data)
	}
	for i, line := range lines {
		var d struct{ Name, Image, Mask, Error string }
		if err := json.Unmarshal([]byte(line), &d); err != nil {
			t.Fatal(err)
		}
		if d.Name != refSkipped[i].Name || d.Error != refSkipped[i].Reason {
			t.Errorf("dead letter %d: %+v; tfseg eval skipped %+v", i, d, refSkipped[i])
		}
		if file := bad[d.Name]; !strings.Contains(d.Error, file) {
			t.Errorf("dead letter %s: error %q does not name %s", d.Name, d.Error, file)
		}
	}

	out = filepath.Join(t.TempDir(), "out")
	code, _, stderr = runBeam(t, nil, "eval", "--model", model, "--images", images, "--masks", masks, "--out", out)
	if code != 1 {
		t.Fatalf("without --skip-bad: exit %d, want 1\n%s", code, stderr)
	}
	last := stderr[strings.LastIndex(stderr, "tfseg-beam: the pipeline failed:"):]
	named := false
	for _, f := range bad {
		named = named || strings.Contains(last, f)
	}
	if !named {
		t.Errorf("error %q names none of the bad files %v", last, bad)
	}
	if ents, err := os.ReadDir(out); err == nil && len(ents) > 0 {
		t.Errorf("a failed run wrote %d files in %s", len(ents), out)
	}
}

// TestSlices: --slice-by a path pattern and a metadata column give, per
// slice, the summary tfseg eval gives on that slice's images alone.
func TestSlices(t *testing.T) {
	model, images, masks := demoData(t, 30)
	dir := t.TempDir()
	meta := filepath.Join(dir, "meta.csv")
	var b strings.Builder
	b.WriteString("site,file\n")
	site := func(name string) string {
		var i int
		fmt.Sscanf(name, "circle_%d", &i)
		return []string{"north", "south", "east/west"}[i%3]
	}
	for i := range 30 {
		name := fmt.Sprintf("circle_%05d", i)
		fmt.Fprintf(&b, "%s,%s.png\n", site(name), name)
	}
	if err := os.WriteFile(meta, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		args  []string
		slice func(name string) string
	}{
		{"path", []string{"--slice-by", `path:circle_000(\d)\d\.png$`}, func(name string) string { return name[10:11] }},
		{"meta", []string{"--slice-by", "meta:site", "--metadata", meta}, site},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			args := append([]string{"eval", "--model", model, "--images", images, "--masks", masks, "--out", out}, tc.args...)
			code, _, stderr := runBeam(t, nil, args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			files, _ := filepath.Glob(filepath.Join(out, "slices", "*.json"))
			slices := map[string]bool{}
			for i := range 30 {
				slices[tc.slice(fmt.Sprintf("circle_%05d", i))] = true
			}
			if len(files) != len(slices) {
				t.Fatalf("slice files %v, want one per slice of %v", files, slices)
			}
			for s := range slices {
				data, err := os.ReadFile(filepath.Join(out, "slices", strings.ReplaceAll(s, "/", "%2F")+".json"))
				if err != nil {
					t.Fatal(err)
				}
				var got refJSON
				if err := json.Unmarshal(data, &got); err != nil {
					t.Fatal(err)
				}
				_, ref := referenceOf(t, model, images, masks, false, func(name string) bool { return tc.slice(name) == s })
				compareSummary(t, "slice "+s, got, ref)
			}
		})
	}
}

// TestUsage: bad flags stop tfseg-beam before any pipeline, with status 2
// and a message naming the problem.
func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", "--images", "i", "--masks", "m", "--out", "o"}, "required"},
		{[]string{"eval", "--model", "m", "--images", "i", "--masks", "m", "--out", "o", "--loss", "nope"}, "nope"},
		{[]string{"eval", "--model", "m", "--images", "i", "--masks", "i", "--out", "o"}, "mask suffix"},
		{[]string{"eval", "--model", "m", "--images", "i", "--masks", "m", "--out", "o", "--slice-by", "path:no-group"}, "capture group"},
		{[]string{"eval", "--model", "m", "--images", "i", "--masks", "m", "--out", "o", "--from-logits", "yes"}, "auto or off"},
		{[]string{"eval", "extra"}, "no arguments"},
		{[]string{"frobnicate"}, "usage: tfseg-beam eval"},
	} {
		code, _, stderr := runBeam(t, nil, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}
