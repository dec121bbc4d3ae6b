package tfsegbeam

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tfseg/tfseg/eval"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*writeRowsFn)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*writeDeadFn)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*writeSummaryFn)(nil)).Elem())
	beam.RegisterFunction(isDead)
	beam.RegisterFunction(bySlice)
	beam.RegisterFunction(globalKey)
	beam.RegisterFunction(deadKey)
}

// Output file names under Config.Out.
const (
	SummaryFile    = "summary.json"
	DeadLetterFile = "dead-letter.jsonl"
	SlicesDir      = "slices"
)

// ShardName is the name of per-image shard i of n with extension ext
// ("csv" or "jsonl").
func ShardName(i, n int, ext string) string {
	return fmt.Sprintf("rows-%05d-of-%05d.%s", i, n, ext)
}

func join(dir, name string) string { return strings.TrimRight(dir, "/") + "/" + name }

func isDead(o Outcome, emit func(Outcome)) {
	if o.Reason != "" {
		emit(o)
	}
}

func bySlice(o Outcome) (string, Outcome) { return o.Slice, o }

func globalKey(a *Acc) (string, *Acc) { return "", a }

func deadKey(o Outcome) (int, Outcome) { return 0, o }

// firstHeader returns a header of the side input (all are the same).
func firstHeader(headers func(*Header) bool) Header {
	var h Header
	headers(&h)
	return h
}

// writeRowsFn writes one shard as tfseg eval's CSV (eval.Report.WriteCSV)
// and as JSON Lines with the same columns: the header line, then the
// shard's parts (written by the evaluating bundles) one after the other,
// copied as they are read; the parts are removed after.
type writeRowsFn struct {
	Out    string
	Shards int
}

func (f *writeRowsFn) ProcessElement(ctx context.Context, shard int, parts func(*string) bool, headers func(*Header) bool) error {
	h := firstHeader(headers)
	names := partsOf(parts)
	err := writeFile(ctx, join(f.Out, ShardName(shard, f.Shards, "csv")), func(wc io.Writer) error {
		return writeFile(ctx, join(f.Out, ShardName(shard, f.Shards, "jsonl")), func(wj io.Writer) error {
			if err := (&eval.Report{Columns: h.Columns}).WriteCSV(wc); err != nil { // the header line
				return err
			}
			for _, p := range names {
				if err := appendFile(ctx, wc, p+".csv"); err != nil {
					return err
				}
				if err := appendFile(ctx, wj, p+".jsonl"); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, p := range names {
		if err := removeFiles(ctx, p+".csv", p+".jsonl"); err != nil {
			return err
		}
	}
	return nil
}

// writeCSVRow writes im as eval.Report.WriteCSV writes it (the same code:
// a report of one image), with the header line when head is set.
func writeCSVRow(w io.Writer, cols []eval.Column, im eval.ImageResult, head bool) error {
	var b bytes.Buffer
	if err := (&eval.Report{Columns: cols, Images: []eval.ImageResult{im}}).WriteCSV(&b); err != nil {
		return err
	}
	out := b.Bytes()
	if !head {
		out = out[bytes.IndexByte(out, '\n')+1:]
	}
	_, err := w.Write(out)
	return err
}

// jsonRow is one image as a JSON object with the CSV's columns, in order;
// values are float64 in their shortest exact form, NaN and infinities null.
func jsonRow(cols []eval.Column, im eval.ImageResult) []byte {
	var b strings.Builder
	str := func(s string) string { q, _ := json.Marshal(s); return string(q) }
	fmt.Fprintf(&b, `{"name":%s,"image":%s,"mask":%s,"height":%d,"width":%d,"cropped":%t`,
		str(im.Name), str(im.Image), str(im.Mask), im.Height, im.Width, im.Cropped)
	for k, c := range cols {
		v := "null"
		if x := im.Values[k]; !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = strconv.FormatFloat(x, 'g', -1, 64)
		}
		fmt.Fprintf(&b, ",%s:%s", str(c.Name), v)
	}
	b.WriteString("}")
	return []byte(b.String())
}

// writeDeadFn writes the dead letters: one JSON object per image that
// could not be evaluated, naming its files and the error.
type writeDeadFn struct {
	Out string
}

func (f *writeDeadFn) ProcessElement(ctx context.Context, _ int, dead func(*Outcome) bool) error {
	var all []Outcome
	var o Outcome
	for dead(&o) {
		all = append(all, o)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return writeFile(ctx, join(f.Out, DeadLetterFile), func(w io.Writer) error {
		for _, o := range all {
			line, err := json.Marshal(map[string]string{"name": o.Name, "image": o.Image, "mask": o.Mask, "error": o.Reason})
			if err != nil {
				return err
			}
			if _, err := w.Write(append(line, '\n')); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeSummaryFn writes the summary of all images (key "") as
// summary.json, and that of each slice as slices/SLICE.json, in the format
// of tfseg eval --json (with no per-image rows).
type writeSummaryFn struct {
	Out           string
	K             int
	StartUnixNano int64
}

func (f *writeSummaryFn) ProcessElement(ctx context.Context, slice string, a *Acc, headers func(*Header) bool, notes func(*Note) bool) error {
	h := firstHeader(headers)
	var masks, ignored []string
	path := join(f.Out, SummaryFile)
	if slice != "" {
		path = join(f.Out, SlicesDir+"/"+SliceFileName(slice))
	} else {
		var n Note
		for notes(&n) {
			if n.Kind == "mask" {
				masks = append(masks, n.Path)
			} else {
				ignored = append(ignored, n.Path)
			}
		}
		sortStrings(masks)
		sortStrings(ignored)
	}
	rep := report(a, h, f.K, masks, ignored)
	rep.Elapsed = time.Since(time.Unix(0, f.StartUnixNano))
	return writeFile(ctx, path, rep.WriteJSON)
}

// SliceFileName is the file a slice's summary is written to under
// slices/: the slice name, path-escaped, with .json.
func SliceFileName(slice string) string {
	return url.PathEscape(slice) + ".json"
}
