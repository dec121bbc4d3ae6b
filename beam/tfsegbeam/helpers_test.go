package tfsegbeam_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tfseg/tfseg/baseline"
	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/eval"
)

// bin holds the binaries TestMain builds: tfseg-beam, and Prism's job
// server from the Beam module (cmd/prism).
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tfseg-beam-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = dir
	code := func() int {
		for _, pkg := range []string{"github.com/tfseg/tfseg/beam/cmd/tfseg-beam", "github.com/apache/beam/sdks/v2/go/cmd/prism"} {
			cmd := exec.Command("go", "build", "-o", dir, pkg)
			if out, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, out)
				return 1
			}
		}
		return m.Run()
	}()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runBeam runs tfseg-beam with args; it returns the exit status and output.
func runBeam(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "tfseg-beam"), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("tfseg-beam: %v", err)
		}
		code = ee.ExitCode()
	}
	return code, stdout.String(), stderr.String()
}

// freePort returns a TCP port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startPrism starts Prism's job server (the Beam module's cmd/prism) and
// stops it when the test ends; it returns its endpoint.
func startPrism(t *testing.T, env ...string) string {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(filepath.Join(bin, "prism"), fmt.Sprintf("--job_port=%d", port), "--serve_http=false")
	cmd.Env = append(os.Environ(), env...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prism log:\n%s", log.String())
		}
	})
	endpoint := fmt.Sprintf("localhost:%d", port)
	for deadline := time.Now().Add(30 * time.Second); ; {
		c, err := net.Dial("tcp", endpoint)
		if err == nil {
			c.Close()
			return endpoint
		}
		if time.Now().After(deadline) {
			t.Fatalf("prism job server did not listen on %s: %v\n%s", endpoint, err, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// demoData writes the demo's model and n images of its dataset (what
// tfseg demo writes: baseline.DefaultCalibration, baseline.DefaultCircles).
func demoData(t *testing.T, n int) (model, images, masks string) {
	t.Helper()
	dir := t.TempDir()
	model = filepath.Join(dir, "model")
	if err := baseline.WriteModel(model, baseline.DefaultCalibration); err != nil {
		t.Fatal(err)
	}
	if err := baseline.DefaultCircles.WriteDir(filepath.Join(dir, "data"), n); err != nil {
		t.Fatal(err)
	}
	return model, filepath.Join(dir, "data", "images"), filepath.Join(dir, "data", "masks")
}

// fixture returns the path of a shared SavedModel fixture: missing is a
// failure under CI, a skip otherwise.
func fixture(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "fixtures", "savedmodels", name)
	if _, err := os.Stat(filepath.Join(p, "saved_model.pb")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fixture %s missing under CI: %v", p, err)
		}
		t.Skipf("fixture %s not available: %v", p, err)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// reference runs what tfseg eval runs (dataset.Match, eval.Load on the go
// engine, eval.Run with its default batch of 8 and 2 workers) and returns
// the report's CSV and JSON.
func reference(t *testing.T, model, images, masks string, skipBad bool, measures ...eval.Measure) (csvText string, js refJSON) {
	t.Helper()
	return referenceOf(t, model, images, masks, skipBad, nil, measures...)
}

// referenceOf is reference on the images keep keeps (by name; nil: all).
func referenceOf(t *testing.T, model, images, masks string, skipBad bool, keep func(name string) bool, measures ...eval.Measure) (csvText string, js refJSON) {
	t.Helper()
	l, err := dataset.Match(images, masks, dataset.MatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if keep != nil {
		var kept []dataset.Pair
		for _, p := range l.Pairs {
			if keep(p.Name) {
				kept = append(kept, p)
			}
		}
		l.Pairs = kept
	}
	m, err := eval.Load(model, eval.LoadOptions{Engine: "go"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	opts := eval.Options{BatchSize: 8, Workers: 2, SkipBad: skipBad}
	if len(measures) > 0 {
		opts.Metrics = measures
	}
	rep, err := eval.Run(context.Background(), m, l, opts)
	if err != nil {
		t.Fatal(err)
	}
	var c, j bytes.Buffer
	if err := rep.WriteCSV(&c); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(&j); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(j.Bytes(), &js); err != nil {
		t.Fatal(err)
	}
	return c.String(), js
}

// refJSON is tfseg eval --json, the fields compared.
type refJSON struct {
	Model    json.RawMessage `json:"model"`
	Columns  json.RawMessage `json:"columns"`
	Classes  int             `json:"classes"`
	RankedBy string          `json:"ranked_by"`
	Worst    json.RawMessage `json:"worst"`
	Failing  int             `json:"failing"`
	Ranked   int             `json:"ranked"`
	Skipped  json.RawMessage `json:"skipped"`
	Masks    json.RawMessage `json:"masks_without_image"`
	Ignored  json.RawMessage `json:"ignored"`
	Notes    json.RawMessage `json:"notes"`
	Summary  []struct {
		Name                string
		N, NaN              int
		Mean, Std, Min, Max *float64
	} `json:"summary"`
	Images []struct {
		Name   string              `json:"name"`
		Values map[string]*float64 `json:"values"`
	} `json:"images"`
}

// beamRows reads the CSV shards (header + rows sorted by name) and the
// JSON Lines shards (values by image name) of a tfseg-beam output.
func beamRows(t *testing.T, out string) (csvText string, values map[string]map[string]*float64) {
	t.Helper()
	shards, _ := filepath.Glob(filepath.Join(out, "rows-*-of-*.csv"))
	if len(shards) == 0 {
		t.Fatalf("no CSV shard in %s", out)
	}
	var header []string
	var rows [][]string
	for _, s := range shards {
		f, err := os.Open(s)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if header != nil && strings.Join(recs[0], ",") != strings.Join(header, ",") {
			t.Fatalf("shard %s header %v, another's %v", s, recs[0], header)
		}
		header = recs[0]
		rows = append(rows, recs[1:]...)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(header)
	_ = w.WriteAll(rows)
	values = map[string]map[string]*float64{}
	jsonl, _ := filepath.Glob(filepath.Join(out, "rows-*-of-*.jsonl"))
	for _, s := range jsonl {
		data, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if line == "" {
				continue
			}
			var obj map[string]any
			d := json.NewDecoder(strings.NewReader(line))
			d.UseNumber()
			if err := d.Decode(&obj); err != nil {
				t.Fatalf("%s: %v: %s", s, err, line)
			}
			vals := map[string]*float64{}
			for _, h := range header[6:] {
				v, ok := obj[h]
				if !ok {
					t.Fatalf("%s: no column %q in %s", s, h, line)
				}
				if v == nil {
					vals[h] = nil
					continue
				}
				f, err := v.(json.Number).Float64()
				if err != nil {
					t.Fatal(err)
				}
				vals[h] = &f
			}
			values[obj["name"].(string)] = vals
		}
	}
	return b.String(), values
}

// sortedCSV sorts a CSV's rows by name (tfseg eval writes them in name
// order already; shards do not).
func sortedCSV(t *testing.T, text string) string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := recs[1:]
	sort.Slice(rows, func(i, j int) bool { return rows[i][0] < rows[j][0] })
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(recs[0])
	_ = w.WriteAll(rows)
	return b.String()
}

// compareWithEval checks a tfseg-beam output against tfseg eval's report:
// the CSV rows identical, the JSON Lines values bit for bit equal to the
// JSON report's, the summary's counts, min, max, worst images, notes and
// skipped images equal, means and standard deviations within 1e-12
// relative.
func compareWithEval(t *testing.T, out, refCSV string, ref refJSON) {
	t.Helper()
	// The rows' part files (written by the evaluating bundles) are
	// concatenated into the shards, then removed with their directory.
	if left, _ := filepath.Glob(filepath.Join(out, ".tfseg-beam-tmp-*")); len(left) > 0 {
		t.Errorf("part files left after the run: %v", left)
	}
	gotCSV, gotVals := beamRows(t, out)
	if want := sortedCSV(t, refCSV); gotCSV != want {
		t.Errorf("CSV rows differ from tfseg eval's:\n got %.2000s\nwant %.2000s", gotCSV, want)
	}
	if len(gotVals) != len(ref.Images) {
		t.Errorf("%d JSON Lines rows, tfseg eval has %d images", len(gotVals), len(ref.Images))
	}
	for _, im := range ref.Images {
		got, ok := gotVals[im.Name]
		if !ok {
			t.Errorf("image %s: no JSON Lines row", im.Name)
			continue
		}
		for col, want := range im.Values {
			g := got[col]
			if (g == nil) != (want == nil) || g != nil && math.Float64bits(*g) != math.Float64bits(*want) {
				t.Errorf("image %s column %s: %v, tfseg eval %v", im.Name, col, deref(g), deref(want))
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got refJSON
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	compareSummary(t, "summary.json", got, ref)
	if len(got.Images) != 0 {
		t.Errorf("summary.json holds %d images; the rows are in the shards", len(got.Images))
	}
}

func compareSummary(t *testing.T, what string, got, ref refJSON) {
	t.Helper()
	same := func(field string, g, w any) {
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if !bytes.Equal(gj, wj) {
			t.Errorf("%s %s: %s, tfseg eval %s", what, field, gj, wj)
		}
	}
	same("model", got.Model, ref.Model)
	same("columns", got.Columns, ref.Columns)
	same("classes", got.Classes, ref.Classes)
	same("ranked_by", got.RankedBy, ref.RankedBy)
	same("worst", got.Worst, ref.Worst)
	same("failing", got.Failing, ref.Failing)
	same("ranked", got.Ranked, ref.Ranked)
	same("skipped", got.Skipped, ref.Skipped)
	same("masks_without_image", got.Masks, ref.Masks)
	same("ignored", got.Ignored, ref.Ignored)
	same("notes", got.Notes, ref.Notes)
	if len(got.Summary) != len(ref.Summary) {
		t.Fatalf("%s: %d summary columns, tfseg eval %d", what, len(got.Summary), len(ref.Summary))
	}
	for i, w := range ref.Summary {
		g := got.Summary[i]
		same("summary name", g.Name, w.Name)
		same(w.Name+" n", g.N, w.N)
		same(w.Name+" nan", g.NaN, w.NaN)
		same(w.Name+" min", g.Min, w.Min)
		same(w.Name+" max", g.Max, w.Max)
		for _, p := range [][3]any{{"mean", g.Mean, w.Mean}, {"std", g.Std, w.Std}} {
			gv, wv := p[1].(*float64), p[2].(*float64)
			if (gv == nil) != (wv == nil) || gv != nil && !within(*gv, *wv, 1e-12) {
				t.Errorf("%s %s %s: %v, tfseg eval %v (more than 1e-12 relative)", what, w.Name, p[0], deref(gv), deref(wv))
			}
		}
	}
}

func within(a, b, rel float64) bool {
	return a == b || math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b))
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
