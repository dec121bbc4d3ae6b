// Package tfsegbeam evaluates a segmentation SavedModel on a dataset with
// Apache Beam (github.com/apache/beam/sdks/v2): the per-image values of
// tfseg eval (package eval's Evaluator, the same code), computed by workers
// that each load the model once, and the summary of tfseg eval --json
// computed by combiners that merge exactly.
//
// Build adds the evaluation to a pipeline; command tfseg-beam runs it on
// any Beam runner (Prism in-process by default).
package tfsegbeam

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/eval"
)

// Config is what to evaluate and where to write. It travels to the workers
// inside the pipeline (JSON), so it holds only plain values.
type Config struct {
	// Model is the SavedModel directory (local, or on a Beam filesystem
	// such as gs:// or s3://, copied to a local temporary directory on
	// each worker).
	Model string
	// Images and Masks are directories or globs on a Beam filesystem; a
	// directory stands for its files (DIR/*). Files pair by name as tfseg
	// eval pairs them (dataset.Pairing).
	Images, Masks string
	// MaskSuffix: see dataset.MatchOptions.
	MaskSuffix string
	// Signature, Input and Output select the model's tensors (eval.LoadOptions).
	Signature, Input, Output string
	// FromLogits is "auto" (default) or "off".
	FromLogits string
	// Losses and Metrics are NAME[:key=value,...] as tfseg eval's --loss
	// and --metric take them; nil means the defaults, ["none"] none.
	Losses, Metrics []string
	// Batch is the number of images per model run within a bundle (default 8).
	Batch int
	// Workers is the number of batches a worker process evaluates at once
	// (default 2, as tfseg eval's --workers), whatever the number of
	// bundles it runs at once: its Workers evaluators, each with its own
	// sessions on the process's one model, are shared by its DoFn
	// instances.
	Workers int
	// SkipBad sends images that cannot be evaluated to the dead-letter
	// output instead of failing the pipeline.
	SkipBad bool
	// Worst is the number of worst images the summary lists (default 5).
	Worst int
	// Scale is "unit" (default) or "raw"; Channels 0, 1 or 3;
	// MaskEncoding "auto", "binary" or "index" (as tfseg eval's flags).
	Scale        string
	Channels     int
	MaskEncoding string
	// Out is the output directory (a Beam filesystem path).
	Out string
	// Shards is the number of per-image CSV and JSON Lines files (default 4).
	Shards int
	// SliceBy is "path:REGEXP" (the first capture group of REGEXP on the
	// image path names the slice) or "meta:COLUMN" (column COLUMN of the
	// CSV file Metadata, whose column MetadataKey, default "file", holds
	// the image file name). Empty: no slices.
	SliceBy, Metadata, MetadataKey string
	// StartUnixNano is when the run started (the summary's elapsed time).
	StartUnixNano int64
}

func (c Config) withDefaults() Config {
	if c.Batch <= 0 {
		c.Batch = 8
	}
	if c.Worst <= 0 {
		c.Worst = 5
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.Shards <= 0 {
		c.Shards = 4
	}
	if c.FromLogits == "" {
		c.FromLogits = "auto"
	}
	if c.Scale == "" {
		c.Scale = "unit"
	}
	if c.MaskEncoding == "" {
		c.MaskEncoding = "auto"
	}
	if c.MetadataKey == "" {
		c.MetadataKey = "file"
	}
	return c
}

// Validate checks c before a pipeline is built, so that a bad flag fails
// at once and not on the workers.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Model == "" || c.Images == "" || c.Masks == "" || c.Out == "" {
		return fmt.Errorf("tfsegbeam: the model, images, masks and output are required")
	}
	if _, err := c.loadOptions(); err != nil {
		return err
	}
	if _, err := c.evalOptions(); err != nil {
		return err
	}
	if _, err := c.pairing(); err != nil {
		return err
	}
	if _, err := newSlicerSpec(c); err != nil {
		return err
	}
	return nil
}

func (c Config) loadOptions() (eval.LoadOptions, error) {
	o := eval.LoadOptions{Engine: "go", Signature: c.Signature, Input: c.Input, Output: c.Output}
	switch c.FromLogits {
	case "auto", "":
	case "off":
		o.FromLogits = eval.LogitsOff
	default:
		return o, fmt.Errorf("tfsegbeam: from-logits is auto or off, not %q", c.FromLogits)
	}
	return o, nil
}

func measures(list []string) ([]eval.Measure, error) {
	if list == nil {
		return nil, nil
	}
	out := []eval.Measure{}
	for _, s := range list {
		if s == "none" {
			continue
		}
		m, err := eval.ParseMeasure(s)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func (c Config) evalOptions() (eval.Options, error) {
	c = c.withDefaults()
	var o eval.Options
	var err error
	if o.Losses, err = measures(c.Losses); err != nil {
		return o, err
	}
	if o.Metrics, err = measures(c.Metrics); err != nil {
		return o, err
	}
	o.BatchSize, o.Workers, o.SkipBad, o.Worst = c.Batch, 1, c.SkipBad, c.Worst
	switch c.Scale {
	case "unit":
	case "raw":
		o.Image.Scale = dataset.ScaleRaw
	default:
		return o, fmt.Errorf("tfsegbeam: scale is unit or raw, not %q", c.Scale)
	}
	if c.Channels != 0 && c.Channels != 1 && c.Channels != 3 {
		return o, fmt.Errorf("tfsegbeam: channels is 0, 1 or 3, not %d", c.Channels)
	}
	o.Image.Channels = c.Channels
	if o.Mask.Encoding, err = dataset.ParseMaskEncoding(c.MaskEncoding); err != nil {
		return o, err
	}
	return o, nil
}

// glob turns a directory into the glob of its files.
func glob(dirOrGlob string) string {
	if strings.ContainsAny(dirOrGlob, "*?[") {
		return dirOrGlob
	}
	return strings.TrimRight(dirOrGlob, "/") + "/*"
}

func (c Config) pairing() (dataset.Pairing, error) {
	pg := dataset.Pairing{MaskSuffix: c.MaskSuffix, SameDir: glob(c.Images) == glob(c.Masks)}
	if pg.SameDir && pg.MaskSuffix == "" {
		return pg, fmt.Errorf("%w: images and masks are both %s; set a mask suffix to tell them apart", dataset.ErrAmbiguous, c.Images)
	}
	return pg, nil
}

// slicerSpec is the parsed SliceBy.
type slicerSpec struct {
	re     *regexp.Regexp
	column string
}

func newSlicerSpec(c Config) (*slicerSpec, error) {
	if c.SliceBy == "" {
		return nil, nil
	}
	kind, arg, ok := strings.Cut(c.SliceBy, ":")
	switch {
	case ok && kind == "path":
		re, err := regexp.Compile(arg)
		if err != nil {
			return nil, fmt.Errorf("tfsegbeam: slice-by %q: %w", c.SliceBy, err)
		}
		if re.NumSubexp() < 1 {
			return nil, fmt.Errorf("tfsegbeam: slice-by %q: the regular expression needs a capture group (the slice name)", c.SliceBy)
		}
		return &slicerSpec{re: re}, nil
	case ok && kind == "meta":
		if c.Metadata == "" {
			return nil, fmt.Errorf("tfsegbeam: slice-by %q needs a metadata CSV file", c.SliceBy)
		}
		return &slicerSpec{column: arg}, nil
	}
	return nil, fmt.Errorf("tfsegbeam: slice-by is path:REGEXP or meta:COLUMN, not %q", c.SliceBy)
}
