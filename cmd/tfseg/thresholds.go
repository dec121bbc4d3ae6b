package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tfseg/tfseg/eval"
)

// threshold is one --fail-under check: the column's mean (or, with min,
// its per-image minimum) must be at least value.
type threshold struct {
	column string
	min    bool
	value  float64
}

// thresholdFlags collects repeated --fail-under [min:]COLUMN=VALUE flags.
type thresholdFlags []threshold

func (t *thresholdFlags) String() string {
	parts := make([]string, len(*t))
	for i, c := range *t {
		parts[i] = c.String()
	}
	return strings.Join(parts, " ")
}

func (c threshold) String() string {
	s := c.column + "=" + strconv.FormatFloat(c.value, 'g', -1, 64)
	if c.min {
		return "min:" + s
	}
	return s
}

// Set parses [min:]COLUMN=VALUE. COLUMN is a report column as the summary
// table names it (dice_coef, dice_coef[1], ce:keras=2), so VALUE follows
// the last "=".
func (t *thresholdFlags) Set(v string) error {
	var c threshold
	rest, isMin := strings.CutPrefix(v, "min:")
	c.min = isMin
	i := strings.LastIndex(rest, "=")
	if i <= 0 {
		return fmt.Errorf("want [min:]COLUMN=VALUE (e.g. dice_coef[1]=0.8), got %q", v)
	}
	c.column = rest[:i]
	x, err := strconv.ParseFloat(rest[i+1:], 64)
	if err != nil || math.IsNaN(x) {
		return fmt.Errorf("want [min:]COLUMN=VALUE with a number VALUE, got %q", v)
	}
	c.value = x
	*t = append(*t, c)
	return nil
}

// checkResult is one check's outcome, as printed.
type checkResult struct {
	text string
	ok   bool
}

// check evaluates every threshold on rep. A column the report does not
// have is bad input (an error naming the columns it has). A column
// without any finite value fails.
func (t thresholdFlags) check(rep *eval.Report) ([]checkResult, error) {
	var out []checkResult
	for _, c := range t {
		var s *eval.Summary
		for i := range rep.Summary {
			if rep.Summary[i].Name == c.column {
				s = &rep.Summary[i]
			}
		}
		if s == nil {
			names := make([]string, len(rep.Summary))
			for i, x := range rep.Summary {
				names[i] = x.Name
			}
			return nil, fmt.Errorf("--fail-under %s: the report has no column %q; it has %s", c, c.column, strings.Join(names, ", "))
		}
		what, v := "mean", s.Mean
		if c.min {
			what, v = "min", s.Min
		}
		ok := s.N > 0 && v >= c.value
		verdict := "ok"
		switch {
		case s.N == 0:
			verdict = "FAILED (no image has a value)"
		case !ok:
			verdict = "FAILED"
		}
		out = append(out, checkResult{text: fmt.Sprintf("%s %s %s >= %s: %s", what, c.column, fixedValue(v),
			strconv.FormatFloat(c.value, 'g', -1, 64), verdict), ok: ok})
	}
	return out, nil
}

func fixedValue(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}
