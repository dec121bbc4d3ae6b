package eval

import (
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tfseg/tfseg/overlay"
)

// HTMLPage is what WriteHTML shows besides the report.
type HTMLPage struct {
	// Title heads the page.
	Title string
	// Images and Masks are the dataset's folders.
	Images, Masks string
}

// WriteHTML writes the report as one self-contained HTML page: no
// network access, the overlay cards of Report.Gallery inlined as data:
// URIs, the plots as inline SVG drawn here. It shows the model and the
// dataset, the notes, the summary table, a histogram per column, per-class
// bars (models with per-class columns), the confusion matrix, the worst
// images and a per-image table sorted by clicking a column (a few lines of
// inline JavaScript).
func (r *Report) WriteHTML(w io.Writer, p HTMLPage) error {
	var b strings.Builder
	e := html.EscapeString
	title := p.Title
	if title == "" {
		title = "tfseg evaluation report"
	}
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>%s</title>
<style>%s</style></head><body>
<h1>%s</h1>
`, e(title), htmlStyle, e(title))

	b.WriteString("<h2>Model and dataset</h2>\n<table class=\"kv\">\n")
	kv := func(k, v string) { fmt.Fprintf(&b, "<tr><th>%s</th><td>%s</td></tr>\n", e(k), e(v)) }
	kv("model", r.Model.Dir)
	kv("engine", r.Model.Engine)
	kv("signature", fmt.Sprintf("%s: %s -> %s", r.Model.Signature, r.Model.Input, r.Model.Output))
	if r.Model.Logits != "" {
		kv("logits", fmt.Sprintf("%s (input of the final %s)", r.Model.Logits, r.Model.Activation))
	}
	kv("classes", fmt.Sprintf("%d", r.Classes))
	if p.Images != "" {
		kv("images", p.Images)
	}
	if p.Masks != "" {
		kv("masks", p.Masks)
	}
	kv("evaluated", fmt.Sprintf("%d images (%d skipped) in %s", len(r.Images), len(r.Skipped), r.Elapsed.Round(time.Millisecond)))
	kv("sizes scored", r.sizes())
	if r.OverlayDir != "" {
		kv("overlays", r.OverlayDir)
	}
	b.WriteString("</table>\n")
	if len(r.Notes) > 0 {
		b.WriteString("<ul class=\"notes\">\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "<li>%s</li>\n", e(n))
		}
		b.WriteString("</ul>\n")
	}

	b.WriteString("<h2>Summary</h2>\n<table class=\"num\"><tr><th>column</th><th>kind</th><th>mean</th><th>std</th><th>min</th><th>max</th><th>images</th><th>NaN</th></tr>\n")
	for k, s := range r.Summary {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%d</td></tr>\n",
			e(s.Name), e(r.Columns[k].Kind), fixed(s.Mean), fixed(s.Std), fixed(s.Min), fixed(s.Max), s.N, s.NaN)
	}
	b.WriteString("</table>\n")
	if r.RankedBy != "" && r.Failing >= 0 {
		fmt.Fprintf(&b, "<p>Images with %s &lt; 0.5: <b>%d</b> of %d.</p>\n", e(r.RankedBy), r.Failing, r.Ranked)
	}
	for _, f := range r.failing() {
		fmt.Fprintf(&b, "<p class=\"failing\">FAILING: %s</p>\n", e(f))
	}

	b.WriteString("<h2>Distributions</h2>\n<p>One histogram per column over the images (20 bins; metrics on [0, 1]).</p>\n<div class=\"plots\">\n")
	for k, c := range r.Columns {
		if strings.HasSuffix(c.Name, "]") {
			continue
		}
		var vals []float64
		for _, im := range r.Images {
			if v := im.Values[k]; !math.IsNaN(v) && !math.IsInf(v, 0) {
				vals = append(vals, v)
			}
		}
		b.WriteString(histogramSVG(c.Name, vals, c.Kind == "metric"))
	}
	b.WriteString("</div>\n")

	if bars := r.classBars(); bars != "" {
		b.WriteString("<h2>Per class</h2>\n<p>Mean of each per-class column by class.</p>\n<div class=\"plots\">\n" + bars + "</div>\n")
	}
	if len(r.Confusion) > 0 {
		b.WriteString("<h2>Confusion matrix</h2>\n<p>Pixels by true class (rows) and predicted class (columns), over every scored pixel; the percentage is of the row.</p>\n")
		b.WriteString(confusionTable(r.Confusion))
	}

	if len(r.Gallery) > 0 {
		fmt.Fprintf(&b, "<h2>Worst %d images</h2>\n<p>Ranked by %s. Legend:", len(r.Gallery), e(r.RankedBy))
		for _, l := range overlay.Legend {
			fmt.Fprintf(&b, ` <span class="sw" style="background:#%02x%02x%02x"></span> %s`, l.Colour.R, l.Colour.G, l.Colour.B, e(l.Label))
		}
		b.WriteString(".</p>\n<div class=\"gallery\">\n")
		for _, c := range r.Gallery {
			im := r.Images[c.Index]
			fmt.Fprintf(&b, "<figure><img alt=\"overlay of %s\" src=\"data:image/png;base64,%s\"><figcaption>%s<br><small>%s</small></figcaption></figure>\n",
				e(c.Name), base64.StdEncoding.EncodeToString(c.PNG), e(c.Name), e(im.Image))
		}
		b.WriteString("</div>\n")
	}

	b.WriteString("<h2>Per image</h2>\n<p>Click a column to sort.</p>\n<div class=\"wide\"><table class=\"num sortable\" id=\"images\"><thead><tr><th>name</th>")
	for _, c := range r.Columns {
		fmt.Fprintf(&b, "<th>%s</th>", e(c.Name))
	}
	b.WriteString("</tr></thead><tbody>\n")
	for _, im := range r.Images {
		fmt.Fprintf(&b, "<tr><td>%s</td>", e(im.Name))
		for _, v := range im.Values {
			sv := "NaN"
			if !math.IsNaN(v) {
				sv = strconv.FormatFloat(v, 'g', -1, 64)
			}
			fmt.Fprintf(&b, "<td data-v=\"%s\">%s</td>", sv, fixed(v))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody></table></div>\n")
	if len(r.Skipped) > 0 {
		fmt.Fprintf(&b, "<h2>Skipped (%d)</h2>\n<ul>\n", len(r.Skipped))
		for _, s := range r.Skipped {
			fmt.Fprintf(&b, "<li>%s: %s</li>\n", e(s.Name), e(s.Reason))
		}
		b.WriteString("</ul>\n")
	}
	fmt.Fprintf(&b, "<script>%s</script>\n</body></html>\n", htmlScript)
	_, err := io.WriteString(w, b.String())
	return err
}

// sizes lists the scored sizes and how many images have each.
func (r *Report) sizes() string {
	count := map[string]int{}
	for _, im := range r.Images {
		count[fmt.Sprintf("%dx%d", im.Height, im.Width)]++
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s (%d images)", k, count[k])
	}
	return strings.Join(parts, ", ")
}

// classBars draws, for each column with per-class columns NAME[c], a bar
// per class of its mean.
func (r *Report) classBars() string {
	var out strings.Builder
	for _, c := range r.Columns {
		var labels []string
		var means []float64
		for cl := 0; ; cl++ {
			m, ok := r.summaryOf(fmt.Sprintf("%s[%d]", c.Name, cl))
			if !ok {
				break
			}
			labels, means = append(labels, fmt.Sprintf("class %d", cl)), append(means, m)
		}
		if len(labels) > 0 {
			out.WriteString(barsSVG(c.Name, labels, means))
		}
	}
	return out.String()
}

func (r *Report) summaryOf(name string) (float64, bool) {
	for _, s := range r.Summary {
		if s.Name == name {
			return s.Mean, true
		}
	}
	return 0, false
}

// SVG plot geometry.
const (
	plotW, plotH             = 320, 200
	plotLeft, plotBottom     = 44, 36
	plotTop, plotRight       = 24, 10
	plotInnerW, plotInnerH   = plotW - plotLeft - plotRight, plotH - plotTop - plotBottom
	plotBarColour, plotMuted = "#0072b2", "#666"
)

// histogramSVG draws a 20-bin histogram of vals; unit puts the axis on
// [0, 1] when every value is in it.
func histogramSVG(name string, vals []float64, unit bool) string {
	const bins = 20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="plot" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="histogram of %s">`, plotW, plotH, plotW, plotH, html.EscapeString(name))
	fmt.Fprintf(&b, `<text x="%d" y="16" class="t">%s</text>`, plotLeft, html.EscapeString(name))
	if len(vals) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="l">no finite value</text></svg>`, plotLeft, plotTop+plotInnerH/2)
		return b.String()
	}
	lo, hi := vals[0], vals[0]
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if unit && lo >= 0 && hi <= 1 {
		lo, hi = 0, 1
	}
	if hi == lo {
		lo, hi = lo-0.5, hi+0.5
	}
	var count [bins]int
	for _, v := range vals {
		i := int((v - lo) / (hi - lo) * bins)
		count[min(max(i, 0), bins-1)]++
	}
	top := 1
	for _, c := range count {
		top = max(top, c)
	}
	bw := float64(plotInnerW) / bins
	for i, c := range count {
		h := float64(c) / float64(top) * plotInnerH
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>[%s, %s): %d</title></rect>`,
			plotLeft+float64(i)*bw+0.5, plotTop+plotInnerH-h, bw-1, h, plotBarColour,
			fixed(lo+(hi-lo)*float64(i)/bins), fixed(lo+(hi-lo)*float64(i+1)/bins), c)
	}
	axes(&b, fixed(lo), fixed(hi), strconv.Itoa(top), "images")
	b.WriteString("</svg>\n")
	return b.String()
}

// barsSVG draws one bar per label, values on [0, 1] (or their range).
func barsSVG(name string, labels []string, vals []float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="plot" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s per class">`, plotW, plotH, plotW, plotH, html.EscapeString(name))
	fmt.Fprintf(&b, `<text x="%d" y="16" class="t">%s by class (mean)</text>`, plotLeft, html.EscapeString(name))
	top := 1.0
	for _, v := range vals {
		if v > top {
			top = v
		}
	}
	bw := float64(plotInnerW) / float64(len(vals))
	for i, v := range vals {
		h := 0.0
		if !math.IsNaN(v) && v > 0 {
			h = v / top * plotInnerH
		}
		x := plotLeft + float64(i)*bw
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s</title></rect>`,
			x+bw*0.15, plotTop+plotInnerH-h, bw*0.7, h, plotBarColour, labels[i], fixed(v))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="l" text-anchor="middle">%s</text>`, x+bw/2, plotTop+plotInnerH-h-3, fixed(v))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="l" text-anchor="middle">%s</text>`, x+bw/2, plotTop+plotInnerH+14, labels[i])
	}
	axes(&b, "", "", fixed(top), "")
	b.WriteString("</svg>\n")
	return b.String()
}

// axes draws the plot's axes with the x range ends and the y maximum.
func axes(b *strings.Builder, xlo, xhi, ytop, ylabel string) {
	x0, y0 := plotLeft, plotTop+plotInnerH
	fmt.Fprintf(b, `<path d="M%d %dV%dH%d" stroke="%s" fill="none"/>`, x0, plotTop, y0, x0+plotInnerW, plotMuted)
	fmt.Fprintf(b, `<text x="%d" y="%d" class="l" text-anchor="end">%s</text>`, x0-4, plotTop+8, ytop)
	fmt.Fprintf(b, `<text x="%d" y="%d" class="l" text-anchor="end">0</text>`, x0-4, y0)
	if ylabel != "" {
		fmt.Fprintf(b, `<text x="%d" y="%d" class="l" text-anchor="end">%s</text>`, x0-4, plotTop+plotInnerH/2, ylabel)
	}
	if xlo != "" {
		fmt.Fprintf(b, `<text x="%d" y="%d" class="l">%s</text>`, x0, y0+14, xlo)
		fmt.Fprintf(b, `<text x="%d" y="%d" class="l" text-anchor="end">%s</text>`, x0+plotInnerW, y0+14, xhi)
	}
}

// confusionTable shows counts and row percentages, shaded by the latter.
func confusionTable(m [][]int64) string {
	var b strings.Builder
	b.WriteString("<table class=\"num confusion\"><tr><th>true \\ predicted</th>")
	for p := range m {
		fmt.Fprintf(&b, "<th>class %d</th>", p)
	}
	b.WriteString("</tr>\n")
	for t, row := range m {
		var sum int64
		for _, v := range row {
			sum += v
		}
		fmt.Fprintf(&b, "<tr><th>class %d</th>", t)
		for _, v := range row {
			frac := 0.0
			if sum > 0 {
				frac = float64(v) / float64(sum)
			}
			fmt.Fprintf(&b, "<td style=\"background:rgba(0,114,178,%.2f)\">%d<br><small>%.1f%%</small></td>", 0.08+0.6*frac, v, 100*frac)
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
	return b.String()
}

const htmlStyle = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 8px;border:1px solid #ddd;text-align:left}
table.num td{text-align:right;font-variant-numeric:tabular-nums}table.num td:first-child{text-align:left}
table.kv th{background:#f4f4f4;width:10em}
.notes li{margin:2px 0}
.plots{display:flex;flex-wrap:wrap;gap:12px}
svg.plot{border:1px solid #eee;background:#fff}svg .t{font-size:13px;font-weight:600}svg .l{font-size:10px;fill:#444}
.gallery{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;max-width:360px}figure img{image-rendering:pixelated;max-width:100%}
figcaption{font-size:12px;word-break:break-all}
.sw{display:inline-block;width:12px;height:12px;vertical-align:middle;border:1px solid #999}
table.sortable th{cursor:pointer;background:#f4f4f4;position:sticky;top:0}
table.confusion td{min-width:6em}
.wide{overflow-x:auto;max-height:40em;overflow-y:auto}
.failing{color:#b00;font-weight:600}
`

// htmlScript sorts the per-image table by the clicked column (numbers by
// data-v, NaN last; a second click reverses), then marks the body
// data-ready (the browser test checks the script ran to its end).
const htmlScript = `
document.querySelectorAll("table.sortable").forEach(function(t){
  t.querySelectorAll("th").forEach(function(th,i){
    th.addEventListener("click",function(){
      var asc=th.getAttribute("data-asc")!=="1";
      t.querySelectorAll("th").forEach(function(o){o.removeAttribute("data-asc")});
      if(asc){th.setAttribute("data-asc","1")}
      var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){
        var x=a.cells[i],y=b.cells[i];
        if(i===0){return asc?x.textContent.localeCompare(y.textContent):y.textContent.localeCompare(x.textContent)}
        var u=parseFloat(x.getAttribute("data-v")),v=parseFloat(y.getAttribute("data-v"));
        if(isNaN(u)){return isNaN(v)?0:1}if(isNaN(v)){return -1}
        return asc?u-v:v-u});
      rows.forEach(function(r){body.appendChild(r)});
    });
  });
});
document.body.setAttribute("data-ready","1");
`
