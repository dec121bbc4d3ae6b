package eval

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tfseg/tfseg/internal/atomicfile"
)

// Columns every report has after the losses and metrics.
const (
	// ColumnTrueFraction is the fraction of the mask's pixels that are
	// foreground (class != 0), over the scored (output-sized) window.
	ColumnTrueFraction = "true_fraction"
	// ColumnPredFraction is the fraction predicted foreground (p > 0.5 for
	// one channel, argmax != 0 otherwise).
	ColumnPredFraction = "pred_fraction"
)

// Column describes one per-image value.
type Column struct {
	// Name is the measure as given ("dice_coef", "ce:keras=2"), with
	// "[c]" for class c of a per-class metric, or ColumnTrueFraction /
	// ColumnPredFraction.
	Name string `json:"name"`
	// Kind is "loss", "metric" or "fraction".
	Kind string `json:"kind"`
	// FromLogits is set for a loss computed from the model's logits.
	FromLogits bool `json:"from_logits,omitempty"`
}

// ModelInfo says what was evaluated.
type ModelInfo struct {
	// Dir is the SavedModel directory, Engine the engine that ran it,
	// Signature the signature key, Input and Output the signature's
	// arguments with their tensors ("inputs (serving_default_inputs:0)").
	Dir       string `json:"dir"`
	Engine    string `json:"engine"`
	Signature string `json:"signature"`
	Input     string `json:"input"`
	Output    string `json:"output"`
	// Logits is the tensor losses read as logits ("" when none).
	Logits string `json:"logits,omitempty"`
	// Activation is the final op whose input Logits is.
	Activation string `json:"activation,omitempty"`
}

func (m *Model) info() ModelInfo {
	mi := ModelInfo{Dir: m.Dir, Engine: m.Engine, Signature: m.Signature.Key,
		Input: m.InputKey + " (" + m.Input.Name + ")", Output: m.OutputKey + " (" + m.Output.Name + ")"}
	if m.Logits != nil {
		mi.Logits, mi.Activation = m.Logits.Tensor, m.Logits.Activation
	}
	return mi
}

// Summary describes one column over the images.
type Summary struct {
	// Name is the column's name.
	Name string `json:"name"`
	// N counts the finite values; NaN the others (left out of the statistics).
	N   int `json:"n"`
	NaN int `json:"nan"`
	// Mean, Std (population standard deviation), Min and Max of the finite values.
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// Ranked is an image with its value in the ranking column.
type Ranked struct {
	// Name is the image's name, Value its value in the ranking column.
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Report is the result of Run.
type Report struct {
	// Model says what was evaluated.
	Model ModelInfo
	// Classes is the number of classes the model scores: 2 for a
	// one-channel (sigmoid) output, its channel count otherwise.
	Classes int
	// Columns are the per-image columns (losses, then metrics), in order.
	Columns []Column
	// Images are the evaluated images, in listing (name) order.
	Images []ImageResult
	// Skipped are the images left out with SkipBad, by name.
	Skipped []Skipped
	// MasksWithoutImage and Ignored come from the dataset listing.
	MasksWithoutImage []string
	Ignored           []string
	// Summary has one entry per column.
	Summary []Summary
	// RankedBy is the column the worst images are ranked by: the Dice
	// coefficient of the foreground when computed (a binary model's
	// dice_coef, class 1's for two classes, the mean over classes >= 1,
	// "[fg]", for more), else IoU likewise, another metric, or a loss.
	// Worst lists the worst images, worst first.
	RankedBy string
	Worst    []Ranked
	// Failing counts the images whose RankedBy metric is below 0.5
	// (-1 when RankedBy is a loss); Ranked counts the images with a
	// value in that column (an image with no foreground in mask and
	// prediction has none).
	Failing, Ranked int
	// Notes say what eval did that a reader must know (cropping, logits).
	Notes []string
	// Elapsed is the run's wall time.
	Elapsed time.Duration
	// OverlayDir is the directory of the overlay cards (Options.Overlays;
	// "" when none were written); an image's card is ImageResult.Overlay
	// in it (OverlayPath).
	OverlayDir string
	// Gallery holds the cards of the Options.Gallery worst images, worst first.
	Gallery []Card
	// Confusion[t][p] counts the scored pixels of true class t predicted
	// as class p, over all evaluated images (Classes x Classes).
	Confusion [][]int64
}

// OverlayPath returns the path of image i's overlay card ("" when none).
func (r *Report) OverlayPath(i int) string {
	if r.OverlayDir == "" || r.Images[i].Overlay == "" {
		return ""
	}
	return filepath.Join(r.OverlayDir, r.Images[i].Overlay)
}

// imageIndex returns the position in Images of the named image (-1 when absent).
func (r *Report) imageIndex(name string) int {
	for i, im := range r.Images {
		if im.Name == name {
			return i
		}
	}
	return -1
}

// Value returns image i's value in the named column (NaN when absent).
func (r *Report) Value(i int, column string) float64 {
	for k, c := range r.Columns {
		if c.Name == column {
			return r.Images[i].Values[k]
		}
	}
	return math.NaN()
}

// Mean returns the mean of the named column (NaN when absent or empty).
func (r *Report) Mean(column string) float64 {
	for _, s := range r.Summary {
		if s.Name == column && s.N > 0 {
			return s.Mean
		}
	}
	return math.NaN()
}

func (r *Report) summarise(worst int) {
	r.Summary = make([]Summary, len(r.Columns))
	for k, c := range r.Columns {
		s := Summary{Name: c.Name, Min: math.Inf(1), Max: math.Inf(-1)}
		var sum float64
		for _, im := range r.Images {
			v := im.Values[k]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				s.NaN++
				continue
			}
			s.N++
			sum += v
			s.Min, s.Max = math.Min(s.Min, v), math.Max(s.Max, v)
		}
		if s.N == 0 {
			s.Mean, s.Std, s.Min, s.Max = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		} else {
			s.Mean = sum / float64(s.N)
			var ss float64
			for _, im := range r.Images {
				if v := im.Values[k]; !math.IsNaN(v) && !math.IsInf(v, 0) {
					ss += (v - s.Mean) * (v - s.Mean)
				}
			}
			s.Std = math.Sqrt(ss / float64(s.N))
		}
		r.Summary[k] = s
	}
	key, lowerIsWorse := r.rankColumn()
	r.Failing = -1
	if key < 0 {
		return
	}
	r.RankedBy = r.Columns[key].Name
	order := make([]int, 0, len(r.Images))
	for i, im := range r.Images {
		if !math.IsNaN(im.Values[key]) {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		va, vb := r.Images[order[a]].Values[key], r.Images[order[b]].Values[key]
		if lowerIsWorse {
			return va < vb
		}
		return va > vb
	})
	for _, i := range order[:min(worst, len(order))] {
		r.Worst = append(r.Worst, Ranked{Name: r.Images[i].Name, Value: r.Images[i].Values[key]})
	}
	r.Ranked = len(order)
	if lowerIsWorse {
		r.Failing = 0
		for _, i := range order {
			if r.Images[i].Values[key] < 0.5 {
				r.Failing++
			}
		}
	}
}

// rankColumn picks the ranking column: dice_coef, iou, any metric, a loss.
func (r *Report) rankColumn() (int, bool) {
	find := func(ok func(c Column) bool) int {
		for k, c := range r.Columns {
			if ok(c) && !strings.HasSuffix(c.Name, "]") {
				return k
			}
		}
		return -1
	}
	for _, name := range []string{"dice_coef", "iou"} {
		if k := find(func(c Column) bool { return c.Name == name || strings.HasPrefix(c.Name, name+":") }); k >= 0 {
			// Score the foreground: class 1 of two, the mean over classes >= 1 of more.
			suffix := map[bool]string{true: "[1]", false: "[fg]"}[r.Classes == 2]
			if r.Classes >= 2 {
				for j, c := range r.Columns {
					if c.Name == r.Columns[k].Name+suffix {
						return j, true
					}
				}
			}
			return k, true
		}
	}
	if k := find(func(c Column) bool { return c.Kind == "metric" }); k >= 0 {
		return k, true
	}
	return find(func(c Column) bool { return c.Kind == "loss" }), false
}

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 32)
}

// WriteText writes the human-readable report: what was run, notes, the
// summary table, the worst images, the failing count and the skipped images.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "model   %s (signature %s: %s -> %s), engine %s\n", r.Model.Dir, r.Model.Signature, r.Model.Input, r.Model.Output, r.Model.Engine)
	fmt.Fprintf(ew, "images  %d evaluated, %d skipped, in %s\n", len(r.Images), len(r.Skipped), r.Elapsed.Round(time.Millisecond))
	if r.Model.Logits != "" {
		var names []string
		for _, c := range r.Columns {
			if c.FromLogits {
				names = append(names, c.Name)
			}
		}
		if len(names) > 0 {
			fmt.Fprintf(ew, "note    %s computed from the logits (tensor %s, the input of the final %s), as Keras does in training\n", strings.Join(names, ", "), r.Model.Logits, r.Model.Activation)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(ew, "note    %s\n", n)
	}
	if len(r.MasksWithoutImage) > 0 {
		fmt.Fprintf(ew, "note    %d masks have no image: %s\n", len(r.MasksWithoutImage), shortList(r.MasksWithoutImage, 5))
	}
	if len(r.Ignored) > 0 {
		fmt.Fprintf(ew, "note    %d files ignored (not PNG, JPEG or .npy): %s\n", len(r.Ignored), shortList(r.Ignored, 5))
	}
	fmt.Fprintln(ew)
	width := len("column")
	for _, s := range r.Summary {
		width = max(width, len(s.Name))
	}
	fmt.Fprintf(ew, "%-*s  %8s  %8s  %8s  %8s\n", width, "column", "mean", "std", "min", "max")
	for _, s := range r.Summary {
		fmt.Fprintf(ew, "%-*s  %8s  %8s  %8s  %8s\n", width, s.Name, fixed(s.Mean), fixed(s.Std), fixed(s.Min), fixed(s.Max))
	}
	for _, s := range r.Summary {
		if s.NaN > 0 {
			fmt.Fprintf(ew, "%s: %d images without a value (NaN: 0/0, the class absent from the mask or the prediction), left out\n", s.Name, s.NaN)
		}
	}
	if r.RankedBy != "" && len(r.Worst) > 0 {
		fmt.Fprintf(ew, "\nworst %d by %s:\n", len(r.Worst), r.RankedBy)
		for _, wi := range r.Worst {
			fmt.Fprintf(ew, "  %-24s %s", wi.Name, fixed(wi.Value))
			if i := r.imageIndex(wi.Name); i >= 0 && r.OverlayPath(i) != "" {
				fmt.Fprintf(ew, "  %s", r.OverlayPath(i))
			}
			fmt.Fprintln(ew)
		}
	}
	if r.Failing >= 0 && len(r.Images) > 0 {
		fmt.Fprintf(ew, "\nimages with %s < 0.5: %d of %d", r.RankedBy, r.Failing, r.Ranked)
		if n := len(r.Images) - r.Ranked; n > 0 {
			fmt.Fprintf(ew, " (%d more without foreground in mask or prediction)", n)
		}
		fmt.Fprintln(ew)
		for _, f := range r.failing() {
			fmt.Fprintf(ew, "FAILING: %s\n", f)
		}
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(ew, "\nskipped %d:\n", len(r.Skipped))
		for _, s := range r.Skipped {
			fmt.Fprintf(ew, "  %s: %s\n", s.Name, s.Reason)
		}
	}
	return ew.err
}

// failing says plainly when the model does not segment the dataset: the
// mean of the ranking metric below 0.5, or no foreground predicted at all.
func (r *Report) failing() []string {
	var out []string
	if r.Failing < 0 || len(r.Images) == 0 {
		return nil
	}
	if mean := r.Mean(r.RankedBy); !(mean >= 0.5) {
		out = append(out, fmt.Sprintf("mean %s is %s: the model does not segment this dataset", r.RankedBy, fixed(mean)))
	}
	if pf := r.Mean(ColumnPredFraction); pf == 0 && r.Mean(ColumnTrueFraction) > 0 {
		out = append(out, "the model predicts no foreground pixel in any image")
	}
	return out
}

func fixed(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

func shortList(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, ", ")
	}
	return strings.Join(s[:n], ", ") + fmt.Sprintf(", ... (%d more)", len(s)-n)
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// WriteCSV writes one row per evaluated image: name, image, mask, height,
// width, cropped, then one column per Columns entry (shortest float32
// decimal form; NaN as "NaN"). Skipped images are not rows.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"name", "image", "mask", "height", "width", "cropped"}
	for _, c := range r.Columns {
		head = append(head, c.Name)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, im := range r.Images {
		row := []string{im.Name, im.Image, im.Mask, strconv.Itoa(im.Height), strconv.Itoa(im.Width), strconv.FormatBool(im.Cropped)}
		for _, v := range im.Values {
			row = append(row, formatValue(v))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// jsonFloat encodes NaN and infinities as null.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatFloat(v, 'g', -1, 64)), nil
}

// WriteJSON writes the whole report as one JSON object (NaN as null).
func (r *Report) WriteJSON(w io.Writer) error {
	type image struct {
		Name    string               `json:"name"`
		Image   string               `json:"image"`
		Mask    string               `json:"mask"`
		Height  int                  `json:"height"`
		Width   int                  `json:"width"`
		Cropped bool                 `json:"cropped"`
		Values  map[string]jsonFloat `json:"values"`
		Overlay string               `json:"overlay,omitempty"`
	}
	type summary struct {
		Name string    `json:"name"`
		N    int       `json:"n"`
		NaN  int       `json:"nan"`
		Mean jsonFloat `json:"mean"`
		Std  jsonFloat `json:"std"`
		Min  jsonFloat `json:"min"`
		Max  jsonFloat `json:"max"`
	}
	type ranked struct {
		Name    string    `json:"name"`
		Value   jsonFloat `json:"value"`
		Overlay string    `json:"overlay,omitempty"`
	}
	out := struct {
		Model             ModelInfo `json:"model"`
		Columns           []Column  `json:"columns"`
		Summary           []summary `json:"summary"`
		Classes           int       `json:"classes"`
		RankedBy          string    `json:"ranked_by,omitempty"`
		Worst             []ranked  `json:"worst"`
		Failing           int       `json:"failing"`
		Ranked            int       `json:"ranked"`
		Images            []image   `json:"images"`
		Skipped           []Skipped `json:"skipped"`
		MasksWithoutImage []string  `json:"masks_without_image"`
		Ignored           []string  `json:"ignored"`
		Notes             []string  `json:"notes"`
		ElapsedSeconds    float64   `json:"elapsed_seconds"`
		OverlayDir        string    `json:"overlay_dir,omitempty"`
		Confusion         [][]int64 `json:"confusion,omitempty"`
	}{OverlayDir: r.OverlayDir, Confusion: r.Confusion, Model: r.Model, Columns: r.Columns, Classes: r.Classes, RankedBy: r.RankedBy, Failing: r.Failing, Ranked: r.Ranked, Skipped: r.Skipped,
		MasksWithoutImage: r.MasksWithoutImage, Ignored: r.Ignored, Notes: r.Notes, ElapsedSeconds: r.Elapsed.Seconds(),
		Summary: []summary{}, Worst: []ranked{}, Images: []image{}}
	for _, s := range r.Summary {
		out.Summary = append(out.Summary, summary{s.Name, s.N, s.NaN, jsonFloat(s.Mean), jsonFloat(s.Std), jsonFloat(s.Min), jsonFloat(s.Max)})
	}
	for _, wi := range r.Worst {
		over := ""
		if i := r.imageIndex(wi.Name); i >= 0 {
			over = r.OverlayPath(i)
		}
		out.Worst = append(out.Worst, ranked{wi.Name, jsonFloat(wi.Value), over})
	}
	for i, im := range r.Images {
		vals := map[string]jsonFloat{}
		for k, c := range r.Columns {
			vals[c.Name] = jsonFloat(im.Values[k])
		}
		out.Images = append(out.Images, image{im.Name, im.Image, im.Mask, im.Height, im.Width, im.Cropped, vals, r.OverlayPath(i)})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(out)
}

// WriteCSVFile writes the CSV report to path atomically.
func (r *Report) WriteCSVFile(path string) error {
	if err := atomicfile.WriteFunc(path, r.WriteCSV); err != nil {
		return fmt.Errorf("eval: write %s: %w", path, err)
	}
	return nil
}

// WriteJSONFile writes the JSON report to path atomically.
func (r *Report) WriteJSONFile(path string) error {
	if err := atomicfile.WriteFunc(path, r.WriteJSON); err != nil {
		return fmt.Errorf("eval: write %s: %w", path, err)
	}
	return nil
}
