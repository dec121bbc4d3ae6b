package main

import (
	"context"
	"io"

	"github.com/tfseg/tfseg/eval"
)

func init() {
	register(&command{name: "compare", args: "A.json B.json [--html FILE] [--resamples N] [--seed S] [--changed K]",
		summary: "compare two eval reports (--json) on the same images: mean differences with paired bootstrap intervals, images better/worse",
		run:     runCompare})
}

func runCompare(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["compare"])
	htmlPath := fs.String("html", "", "also write the comparison as an HTML page to `FILE`")
	var o eval.CompareOptions
	fs.IntVar(&o.Resamples, "resamples", 10000, "bootstrap resamples")
	fs.Uint64Var(&o.Seed, "seed", 1, "bootstrap seed (PCG): the same seed gives the same intervals")
	fs.Float64Var(&o.Level, "level", 0.95, "confidence level of the intervals")
	fs.IntVar(&o.Changed, "changed", 10, "how many images that changed most are listed")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("compare takes two report files (tfseg eval --json), got %d arguments", len(pos))
	}
	if o.Resamples <= 0 || o.Seed == 0 || o.Level <= 0 || o.Level >= 1 || o.Changed <= 0 {
		return usagef("--resamples, --seed and --changed must be positive, --level in (0, 1)")
	}
	var st outputs
	defer st.cleanup()
	tmp := ""
	if *htmlPath != "" {
		if tmp, err = st.file(*htmlPath); err != nil {
			return err
		}
	}
	a, err := eval.ReadJSONFile(pos[0])
	if err != nil {
		return err
	}
	b, err := eval.ReadJSONFile(pos[1])
	if err != nil {
		return err
	}
	c, err := eval.Compare(a, b, o)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.WriteText(e.stdout); err != nil {
		return err
	}
	if tmp != "" {
		if err := writeFile(tmp, func(w io.Writer) error { return c.WriteHTML(w, "tfseg compare: "+pos[0]+" vs "+pos[1]) }); err != nil {
			return err
		}
	}
	return st.commit()
}
