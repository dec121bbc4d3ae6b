package graphs

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/tfseg/tfseg/tfops"
)

// Sentinel errors; messages name the loss, parameter or input at fault.
var (
	// ErrUnknown is returned for a name no loss or metric is registered under.
	ErrUnknown = errors.New("graphs: unknown loss")
	// ErrParam is returned for an unknown, missing or malformed parameter.
	ErrParam = errors.New("graphs: bad parameter")
	// ErrInput is returned for a missing, unexpected or misshapen input.
	ErrInput = errors.New("graphs: bad input")
)

// Kind says whether a registered graph is a loss or a metric.
type Kind string

// The kinds of registered graphs.
const (
	KindLoss   Kind = "loss"
	KindMetric Kind = "metric"
)

// Parameter kinds: how a Config value is parsed.
const (
	// KindFloat is a number ("0.25", "1e-3").
	KindFloat = "float"
	// KindInt is an integer ("255", "-1").
	KindInt = "int"
	// KindBool is "true" or "false".
	KindBool = "bool"
	// KindWord is one of Param.Choices.
	KindWord = "word"
	// KindInts is a comma-separated list of integers ("1,2,3").
	KindInts = "ints"
	// KindFloats is a comma-separated list of numbers ("1,2,0.5").
	KindFloats = "floats"
	// KindVersion is a Keras release: "3.16", "3.15.1", "3" (the newest
	// 3.x release tfseg knows, NewestKeras) or "2" / "2.15" (tf.keras 2.x).
	// It parses to the release's "MAJOR.MINOR" ("2" for tf.keras 2.x given
	// without a minor): the changes tfseg models all came with a minor
	// release.
	KindVersion = "version"
)

// Param documents one parameter of a loss or metric.
type Param struct {
	// Name is the key in a Config ("beta").
	Name string
	// Doc says what the parameter does.
	Doc string
	// Kind is KindFloat, KindInt, KindBool, KindWord, KindInts, KindFloats
	// or KindVersion.
	Kind string
	// Default is the value used when the Config omits the parameter: a
	// float64, int, bool, string (a word), []int or []float64, or nil when
	// the parameter is absent by default (Choices then holds "none").
	Default any
	// Required parameters have no default and must be set.
	Required bool
	// Choices are the words accepted: all values of a KindWord parameter,
	// or the words accepted in place of a number or list ("auto", "none").
	Choices []string
}

// Spec describes a registered loss or metric.
type Spec struct {
	// Name is the registry name ("dice_image").
	Name string
	// Summary says in one line what it is and when to use it.
	Summary string
	// Doc gives the formula, constants and source.
	Doc string
	// Output describes the result's shape, by reduction where it has one.
	Output string
	// Kind is KindLoss or KindMetric.
	Kind Kind
	// Params are the parameters, in documentation order.
	Params []Param
	// Inputs are the graph inputs in order: "y_true", "y_pred" and, for
	// some, "weights" (required) or "sample_weight" (optional).
	Inputs []string
	// Optional lists the inputs that may be left out (Keras' sample_weight).
	Optional []string

	build     func(b *builder) tfops.Output
	validate  func(v Values) error
	labels    labelKind
	needsRank int // exact rank y_true and y_pred must have (0: any)
}

// labelKind says how y_true relates to y_pred.
type labelKind int

const (
	// labelsSame: y_true has y_pred's shape.
	labelsSame labelKind = iota
	// labelsSparse: y_true holds class indices, y_pred's shape without
	// the last axis (or with it of size 1).
	labelsSparse
	// labelsParam: the "labels" parameter decides (onehot or sparse).
	labelsParam
)

// Param returns the parameter named name.
func (s *Spec) Param(name string) (Param, bool) {
	for _, p := range s.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// ParamNames lists the parameter names in documentation order.
func (s *Spec) ParamNames() []string {
	names := make([]string, len(s.Params))
	for i, p := range s.Params {
		names[i] = p.Name
	}
	return names
}

// IsOptional reports whether input may be left out.
func (s *Spec) IsOptional(input string) bool {
	for _, o := range s.Optional {
		if o == input {
			return true
		}
	}
	return false
}

var (
	regMu    sync.RWMutex
	registry = map[string]*Spec{}
)

// register adds a spec; registering a name twice is a programming error.
func register(s *Spec) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[s.Name]; dup {
		panic("graphs: " + s.Name + " registered twice")
	}
	if s.Inputs == nil {
		s.Inputs = []string{InputTrue, InputPred}
	}
	if d, ok := descriptions[s.Name]; ok {
		s.Summary, s.Output = d.summary, d.output
	}
	registry[s.Name] = s
}

// Names lists every registered loss and metric, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Specs returns every registered spec, sorted by name.
func Specs() []*Spec {
	names := Names()
	out := make([]*Spec, len(names))
	regMu.RLock()
	defer regMu.RUnlock()
	for i, n := range names {
		out[i] = registry[n]
	}
	return out
}

// Lookup returns the spec registered as name; for an unknown name the
// error lists the valid ones.
func Lookup(name string) (*Spec, error) {
	regMu.RLock()
	s, ok := registry[name]
	regMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q; valid names: %s", ErrUnknown, name, strings.Join(Names(), ", "))
	}
	return s, nil
}

// Config holds raw parameter values by name, as given on a command line
// (--set beta=0.7): numbers, true/false, words, comma-separated lists.
type Config map[string]string

// Values are parsed parameter values by name, defaults filled in: float64,
// int, bool, string, []int, []float64, or nil for an absent optional value.
type Values map[string]any

// Parse checks cfg against the spec's parameters and returns every
// parameter's value, defaults filled in. An unknown parameter is an error
// listing the valid ones; so is a missing required one or a value that
// does not parse.
func (s *Spec) Parse(cfg Config) (Values, error) {
	keys := make([]string, 0, len(cfg))
	for k := range cfg {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := s.Param(k); !ok {
			valid := "none"
			if len(s.Params) > 0 {
				valid = strings.Join(s.ParamNames(), ", ")
			}
			return nil, fmt.Errorf("%w: %s has no parameter %q; valid parameters: %s", ErrParam, s.Name, k, valid)
		}
	}
	v := Values{}
	for _, p := range s.Params {
		raw, ok := cfg[p.Name]
		if !ok {
			if p.Required {
				return nil, fmt.Errorf("%w: %s needs parameter %s (%s)", ErrParam, s.Name, p.Name, p.Doc)
			}
			v[p.Name] = p.Default
			continue
		}
		val, err := parseValue(p, strings.TrimSpace(raw))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %s=%q: %w", ErrParam, s.Name, p.Name, raw, err)
		}
		v[p.Name] = val
	}
	if s.validate != nil {
		if err := s.validate(v); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrParam, s.Name, err)
		}
	}
	return v, nil
}

func parseValue(p Param, raw string) (any, error) {
	for _, c := range p.Choices {
		if raw == c {
			if c == "none" && p.Kind != KindWord {
				return nil, nil
			}
			return c, nil
		}
	}
	words := ""
	if len(p.Choices) > 0 {
		words = " or one of " + strings.Join(p.Choices, ", ")
	}
	switch p.Kind {
	case KindWord:
		return nil, fmt.Errorf("want one of %s", strings.Join(p.Choices, ", "))
	case KindBool:
		switch raw {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("want true or false")
	case KindFloat:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("want a finite number%s", words)
		}
		return f, nil
	case KindInt:
		i, err := strconv.Atoi(raw)
		if err != nil {
			return nil, fmt.Errorf("want an integer%s", words)
		}
		return i, nil
	case KindInts:
		var out []int
		for _, f := range strings.Split(raw, ",") {
			i, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return nil, fmt.Errorf("want comma-separated integers (1,2,3)%s", words)
			}
			out = append(out, i)
		}
		return out, nil
	case KindVersion:
		v, err := parseKerasVersion(raw)
		if err != nil {
			return nil, fmt.Errorf("%w%s", err, words)
		}
		return v, nil
	case KindFloats:
		var out []float64
		for _, f := range strings.Split(raw, ",") {
			x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("want comma-separated numbers (1,2,0.5)%s", words)
			}
			out = append(out, x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("parameter kind %q", p.Kind)
}

// Float returns a float parameter (0 when absent or not a number).
func (v Values) Float(name string) float64 { f, _ := v[name].(float64); return f }

// Int returns an integer parameter and whether it is set.
func (v Values) Int(name string) (int, bool) { i, ok := v[name].(int); return i, ok }

// Bool returns a boolean parameter.
func (v Values) Bool(name string) bool { b, _ := v[name].(bool); return b }

// Word returns a word parameter ("" when absent or not a word).
func (v Values) Word(name string) string { w, _ := v[name].(string); return w }

// Ints returns an integer list parameter (nil when absent).
func (v Values) Ints(name string) []int { l, _ := v[name].([]int); return l }

// Floats returns a number list parameter (nil when absent).
func (v Values) Floats(name string) []float64 { l, _ := v[name].([]float64); return l }
