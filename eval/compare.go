package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
)

// ErrCompare is returned by Compare for reports that cannot be compared.
var ErrCompare = errors.New("eval: cannot compare")

// ReadJSON reads a report written by WriteJSON (null values as NaN). The
// gallery and the elapsed time's precision are not in the JSON.
func ReadJSON(r io.Reader) (*Report, error) {
	var in struct {
		Model   ModelInfo `json:"model"`
		Columns []Column  `json:"columns"`
		Summary []struct {
			Name                string
			N, NaN              int
			Mean, Std, Min, Max *float64
		} `json:"summary"`
		Classes  int    `json:"classes"`
		RankedBy string `json:"ranked_by"`
		Worst    []struct {
			Name  string   `json:"name"`
			Value *float64 `json:"value"`
		} `json:"worst"`
		Failing int `json:"failing"`
		Ranked  int `json:"ranked"`
		Images  []struct {
			Name, Image, Mask string
			Height, Width     int
			Cropped           bool
			Values            map[string]*float64
		} `json:"images"`
		Skipped           []Skipped `json:"skipped"`
		MasksWithoutImage []string  `json:"masks_without_image"`
		Ignored           []string  `json:"ignored"`
		Notes             []string  `json:"notes"`
		OverlayDir        string    `json:"overlay_dir"`
		Confusion         [][]int64 `json:"confusion"`
	}
	if err := json.NewDecoder(r).Decode(&in); err != nil {
		return nil, fmt.Errorf("eval: report JSON: %w", err)
	}
	if len(in.Columns) == 0 || in.Model.Dir == "" {
		return nil, fmt.Errorf("eval: report JSON: no model or columns: not a report written by tfseg eval --json")
	}
	num := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	rep := &Report{Model: in.Model, Columns: in.Columns, Classes: in.Classes, RankedBy: in.RankedBy, Failing: in.Failing,
		Ranked: in.Ranked, Skipped: in.Skipped, MasksWithoutImage: in.MasksWithoutImage, Ignored: in.Ignored, Notes: in.Notes,
		OverlayDir: in.OverlayDir, Confusion: in.Confusion}
	for _, s := range in.Summary {
		rep.Summary = append(rep.Summary, Summary{s.Name, s.N, s.NaN, num(s.Mean), num(s.Std), num(s.Min), num(s.Max)})
	}
	for _, w := range in.Worst {
		rep.Worst = append(rep.Worst, Ranked{w.Name, num(w.Value)})
	}
	for i, im := range in.Images {
		res := ImageResult{Index: i, Name: im.Name, Image: im.Image, Mask: im.Mask, Height: im.Height, Width: im.Width, Cropped: im.Cropped}
		for _, c := range in.Columns {
			v, ok := im.Values[c.Name]
			if !ok {
				return nil, fmt.Errorf("eval: report JSON: image %s has no value for column %s", im.Name, c.Name)
			}
			res.Values = append(res.Values, num(v))
		}
		rep.Images = append(rep.Images, res)
	}
	return rep, nil
}

// ReadJSONFile reads a report JSON file (ReadJSON).
func ReadJSONFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rep, err := ReadJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rep, nil
}

// CompareOptions configure Compare. The zero value uses 10000 resamples,
// seed 1, a 95% interval and lists the 10 images that changed most.
type CompareOptions struct {
	// Resamples is the number of bootstrap resamples (default 10000).
	Resamples int
	// Seed seeds the resampling (PCG from math/rand/v2 with (Seed, Seed));
	// the same seed gives the same intervals (default 1).
	Seed uint64
	// Level is the confidence level of the intervals (default 0.95).
	Level float64
	// Changed is how many most-changed images are listed (default 10).
	Changed int
}

// Difference is one column of a comparison: B minus A over the images
// both reports scored (a finite value in both).
type Difference struct {
	// Column is the column's name in A (B's may differ, see
	// Comparison.Notes); Kind is "loss" or "metric".
	Column string
	Kind   string
	// N is the number of paired images.
	N int
	// MeanA and MeanB are the means over those images; Diff = MeanB - MeanA.
	MeanA, MeanB, Diff float64
	// Low and High bound the percentile bootstrap interval of Diff.
	Low, High float64
	// Better, Worse and Same count the images where B is better (higher
	// for a metric, lower for a loss), worse, or equal.
	Better, Worse, Same int
}

// Change is one image's value in the ranking column in A and B.
type Change struct {
	// Name is the image; A and B its values, Diff = B - A.
	Name       string
	A, B, Diff float64
}

// Comparison is the result of Compare.
type Comparison struct {
	// A and B are the compared reports.
	A, B *Report
	// Paired counts the images in both; OnlyA and OnlyB name the others.
	Paired       int
	OnlyA, OnlyB []string
	// Differences has one entry per column both reports have.
	Differences []Difference
	// ChangedBy is the column the most-changed images are ranked by (A's
	// ranking column); Changed lists them, largest |B - A| first.
	ChangedBy string
	Changed   []Change
	// Notes say how columns were matched.
	Notes []string
	// Options are the options used, defaults filled in.
	Options CompareOptions
}

// binary reports whether r is a one-sigmoid-channel model's: two classes
// and no per-class column.
func (r *Report) binary() bool {
	if r.Classes != 2 {
		return false
	}
	for _, c := range r.Columns {
		if strings.HasSuffix(c.Name, "]") {
			return false
		}
	}
	return true
}

// Compare compares two reports on the same images (paired by name): per
// column, the mean difference B - A with a paired percentile bootstrap
// interval (resampling images with replacement, the mean difference of
// each resample; the interval is between its (1-Level)/2 and (1+Level)/2
// quantiles), and how many images got better or worse. Columns are those
// of A that B has too; the fractions of the mask are left out.
func Compare(a, b *Report, opts CompareOptions) (*Comparison, error) {
	if opts.Resamples <= 0 {
		opts.Resamples = 10000
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Level <= 0 || opts.Level >= 1 {
		opts.Level = 0.95
	}
	if opts.Changed <= 0 {
		opts.Changed = 10
	}
	c := &Comparison{A: a, B: b, Options: opts}
	inB := map[string]int{}
	for i, im := range b.Images {
		inB[im.Name] = i
	}
	var pairs [][2]int
	seen := map[string]bool{}
	for i, im := range a.Images {
		if j, ok := inB[im.Name]; ok {
			pairs = append(pairs, [2]int{i, j})
			seen[im.Name] = true
		} else {
			c.OnlyA = append(c.OnlyA, im.Name)
		}
	}
	for _, im := range b.Images {
		if !seen[im.Name] {
			c.OnlyB = append(c.OnlyB, im.Name)
		}
	}
	c.Paired = len(pairs)
	if c.Paired == 0 {
		return nil, fmt.Errorf("%w: the reports have no image in common (A: %d images, B: %d)", ErrCompare, len(a.Images), len(b.Images))
	}
	colB := map[string]int{}
	for k, col := range b.Columns {
		colB[col.Name] = k
	}
	// A binary model's (one sigmoid channel) metric is the foreground's:
	// it compares with a two-class softmax model's NAME[1], not with its
	// NAME (the mean over both classes, background included).
	aBinary, bBinary := a.binary(), b.binary()
	rng := rand.New(rand.NewPCG(opts.Seed, opts.Seed))
	for ka, col := range a.Columns {
		nameB := foregroundName(col, aBinary, bBinary)
		kb, ok := colB[nameB]
		if !ok || col.Name == ColumnTrueFraction {
			continue
		}
		d := Difference{Column: col.Name, Kind: col.Kind}
		if nameB != col.Name {
			d.Column = col.Name + " / " + nameB
			c.Notes = append(c.Notes, fmt.Sprintf("%s of A is compared with %s of B: the foreground's, as %s has one sigmoid channel", col.Name, nameB,
				map[bool]string{true: "A", false: "B"}[aBinary]))
		}
		var diffs []float64
		var sa, sb float64
		for _, p := range pairs {
			va, vb := a.Images[p[0]].Values[ka], b.Images[p[1]].Values[kb]
			if !finite(va) || !finite(vb) {
				continue
			}
			sa, sb = sa+va, sb+vb
			diffs = append(diffs, vb-va)
			switch better := vb - va; {
			case better == 0:
				d.Same++
			case (better > 0) == (col.Kind != "loss"):
				d.Better++
			default:
				d.Worse++
			}
		}
		if col.Kind == "fraction" {
			d.Better, d.Worse, d.Same = 0, 0, 0 // no better or worse for a fraction
		}
		d.N = len(diffs)
		if d.N == 0 {
			d.MeanA, d.MeanB, d.Diff, d.Low, d.High = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
		} else {
			d.MeanA, d.MeanB = sa/float64(d.N), sb/float64(d.N)
			d.Diff = mean(diffs)
			d.Low, d.High = bootstrap(rng, diffs, opts.Resamples, opts.Level)
		}
		c.Differences = append(c.Differences, d)
	}
	c.ChangedBy = a.RankedBy
	if kb, ok := colB[foregroundName(Column{Name: c.ChangedBy, Kind: "metric"}, aBinary, bBinary)]; ok && c.ChangedBy != "" {
		ka := columnIndex(a, c.ChangedBy)
		for _, p := range pairs {
			va, vb := a.Images[p[0]].Values[ka], b.Images[p[1]].Values[kb]
			if finite(va) && finite(vb) {
				c.Changed = append(c.Changed, Change{a.Images[p[0]].Name, va, vb, vb - va})
			}
		}
		sort.SliceStable(c.Changed, func(i, j int) bool { return math.Abs(c.Changed[i].Diff) > math.Abs(c.Changed[j].Diff) })
		c.Changed = c.Changed[:min(opts.Changed, len(c.Changed))]
	}
	return c, nil
}

// foregroundName returns the name in B of A's column: a binary model's
// metric NAME is the other's NAME[1] and the other way round; "" for a
// column with no counterpart (a softmax model's plain or background
// metric against a binary model).
func foregroundName(col Column, aBinary, bBinary bool) string {
	if col.Kind != "metric" || aBinary == bBinary {
		return col.Name
	}
	if aBinary {
		return col.Name + "[1]"
	}
	if name, ok := strings.CutSuffix(col.Name, "[1]"); ok {
		return name
	}
	return ""
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func columnIndex(r *Report, name string) int {
	for k, c := range r.Columns {
		if c.Name == name {
			return k
		}
	}
	return -1
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// bootstrap returns the percentile interval of the mean of x over n
// resamples with replacement: the order statistics at (1-level)/2 and
// (1+level)/2 of the n resampled means (nearest rank).
func bootstrap(rng *rand.Rand, x []float64, n int, level float64) (lo, hi float64) {
	means := make([]float64, n)
	for r := range means {
		var s float64
		for range x {
			s += x[rng.IntN(len(x))]
		}
		means[r] = s / float64(len(x))
	}
	sort.Float64s(means)
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(n))) - 1
		return means[min(max(i, 0), n-1)]
	}
	return at((1 - level) / 2), at((1 + level) / 2)
}

// signed formats a difference with its sign and 4 decimals.
func signed(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return fmt.Sprintf("%+.4f", v)
}

func (d Difference) interval() string {
	if math.IsNaN(d.Low) {
		return "no paired value"
	}
	return fmt.Sprintf("[%s, %s]", signed(d.Low), signed(d.High))
}

// WriteText writes the comparison as a table.
func (c *Comparison) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "A  %s (engine %s, %d images)\n", c.A.Model.Dir, c.A.Model.Engine, len(c.A.Images))
	fmt.Fprintf(ew, "B  %s (engine %s, %d images)\n", c.B.Model.Dir, c.B.Model.Engine, len(c.B.Images))
	fmt.Fprintf(ew, "paired on %d images", c.Paired)
	if len(c.OnlyA)+len(c.OnlyB) > 0 {
		fmt.Fprintf(ew, " (%d only in A, %d only in B: left out)", len(c.OnlyA), len(c.OnlyB))
	}
	fmt.Fprintf(ew, "; B - A with a %g%% paired bootstrap interval (%d resamples, seed %d)\n", 100*c.Options.Level, c.Options.Resamples, c.Options.Seed)
	for _, n := range c.Notes {
		fmt.Fprintf(ew, "note    %s\n", n)
	}
	fmt.Fprintln(ew)
	width := len("column")
	for _, d := range c.Differences {
		width = max(width, len(d.Column))
	}
	fmt.Fprintf(ew, "%-*s  %8s  %8s  %8s  %-20s  %6s  %6s  %6s\n", width, "column", "mean A", "mean B", "B - A", "interval", "better", "worse", "same")
	for _, d := range c.Differences {
		fmt.Fprintf(ew, "%-*s  %8s  %8s  %8s  %-20s  %6d  %6d  %6d\n", width, d.Column, fixed(d.MeanA), fixed(d.MeanB), signed(d.Diff),
			d.interval(), d.Better, d.Worse, d.Same)
	}
	if len(c.Changed) > 0 {
		fmt.Fprintf(ew, "\nimages that changed most in %s:\n", c.ChangedBy)
		for _, ch := range c.Changed {
			fmt.Fprintf(ew, "  %-24s %s -> %s (%+.4f)\n", ch.Name, fixed(ch.A), fixed(ch.B), ch.Diff)
		}
	}
	return ew.err
}

// WriteHTML writes the comparison as a self-contained page: the table, a
// plot of each difference with its interval, the most-changed images.
func (c *Comparison) WriteHTML(w io.Writer, title string) error {
	e := html.EscapeString
	var b strings.Builder
	if title == "" {
		title = "tfseg compare"
	}
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\"><title>%s</title><style>%s</style></head><body>\n<h1>%s</h1>\n",
		e(title), htmlStyle, e(title))
	fmt.Fprintf(&b, "<table class=\"kv\"><tr><th>A</th><td>%s (engine %s, %d images)</td></tr><tr><th>B</th><td>%s (engine %s, %d images)</td></tr>"+
		"<tr><th>paired</th><td>%d images (%d only in A, %d only in B)</td></tr><tr><th>interval</th><td>%g%% paired percentile bootstrap, %d resamples, seed %d</td></tr></table>\n",
		e(c.A.Model.Dir), e(c.A.Model.Engine), len(c.A.Images), e(c.B.Model.Dir), e(c.B.Model.Engine), len(c.B.Images),
		c.Paired, len(c.OnlyA), len(c.OnlyB), 100*c.Options.Level, c.Options.Resamples, c.Options.Seed)
	for _, n := range c.Notes {
		fmt.Fprintf(&b, "<p>Note: %s</p>\n", e(n))
	}
	b.WriteString("<h2>Differences (B - A)</h2>\n<table class=\"num\"><tr><th>column</th><th>mean A</th><th>mean B</th><th>B - A</th><th>interval</th><th>better</th><th>worse</th><th>same</th></tr>\n")
	for _, d := range c.Differences {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%d</td><td>%d</td></tr>\n",
			e(d.Column), fixed(d.MeanA), fixed(d.MeanB), signed(d.Diff), d.interval(), d.Better, d.Worse, d.Same)
	}
	b.WriteString("</table>\n")
	b.WriteString(c.intervalsSVG())
	if len(c.Changed) > 0 {
		fmt.Fprintf(&b, "<h2>Images that changed most in %s</h2>\n<table class=\"num\"><tr><th>image</th><th>A</th><th>B</th><th>B - A</th></tr>\n", e(c.ChangedBy))
		for _, ch := range c.Changed {
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%+.4f</td></tr>\n", e(ch.Name), fixed(ch.A), fixed(ch.B), ch.Diff)
		}
		b.WriteString("</table>\n")
	}
	fmt.Fprintf(&b, "<script>document.body.setAttribute(\"data-ready\",\"1\");</script>\n</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// intervalsSVG draws each difference as a dot with its interval, around 0.
func (c *Comparison) intervalsSVG() string {
	var ds []Difference
	for _, d := range c.Differences {
		if finite(d.Diff) {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return ""
	}
	span := 0.0
	for _, d := range ds {
		span = math.Max(span, math.Max(math.Abs(d.Low), math.Abs(d.High)))
	}
	if span == 0 {
		span = 1
	}
	const left, width, row = 160, 420, 22
	h := row*len(ds) + 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="plot" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="differences with intervals">`, left+width+20, h, left+width+20, h)
	x := func(v float64) float64 { return left + width/2 + v/span*width/2 }
	fmt.Fprintf(&b, `<path d="M%.1f 10V%d" stroke="%s"/>`, x(0), h-24, plotMuted)
	for i, d := range ds {
		y := 20 + i*row
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="l" text-anchor="end">%s</text>`, left-8, y+4, html.EscapeString(d.Column))
		fmt.Fprintf(&b, `<path d="M%.1f %dH%.1f" stroke="%s" stroke-width="2"/>`, x(d.Low), y, x(d.High), plotBarColour)
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%d" r="4" fill="%s"><title>%s: %+.4f [%+.4f, %+.4f]</title></circle>`, x(d.Diff), y, plotBarColour,
			html.EscapeString(d.Column), d.Diff, d.Low, d.High)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="l">%+.4f</text><text x="%.1f" y="%d" class="l" text-anchor="middle">0</text><text x="%d" y="%d" class="l" text-anchor="end">%+.4f</text>`,
		left, h-8, -span, x(0), h-8, left+width, h-8, span)
	b.WriteString("</svg>\n")
	return b.String()
}
