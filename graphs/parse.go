package graphs

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ParseLoss parses a loss or metric with its parameters, as the command
// line, eval and tfseg.ParseLoss write it: "NAME" or
// "NAME:key=value,key=value". A list value keeps its commas:
// "lovasz_softmax:class_weights=1,2,3,per_image=true" (a piece without
// "=" continues the previous value). The name must be registered (an
// ErrUnknown error lists the names); a malformed piece, an empty
// parameter name or one given twice is an ErrParam error quoting it. The
// values are checked against the loss's parameters by Spec.Parse (Build,
// Export and the engines call it).
func ParseLoss(s string) (name string, cfg Config, err error) {
	name, rest, hasCfg := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil, fmt.Errorf("%w: empty name in %q", ErrUnknown, s)
	}
	if _, err := Lookup(name); err != nil {
		return "", nil, err
	}
	if !hasCfg {
		return name, nil, nil
	}
	var pairs []string
	for _, piece := range strings.Split(rest, ",") {
		if !strings.Contains(piece, "=") {
			if len(pairs) == 0 {
				return "", nil, fmt.Errorf("%w: %q in %q: want NAME or NAME:key=value[,key=value]", ErrParam, piece, s)
			}
			pairs[len(pairs)-1] += "," + piece
			continue
		}
		pairs = append(pairs, piece)
	}
	cfg, err = ConfigFromPairs(pairs...)
	if err != nil {
		return "", nil, fmt.Errorf("%w (in %q)", err, s)
	}
	return name, cfg, nil
}

// ConfigFromPairs collects "key=value" pairs (one --set flag each) into a
// Config; see Config.Add.
func ConfigFromPairs(pairs ...string) (Config, error) {
	cfg := Config{}
	for _, p := range pairs {
		if err := cfg.Add(p); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// Add adds one "key=value" pair to c (the key trimmed of spaces, the
// value as given). A pair without "=", an empty key or a key c already
// has is an ErrParam error quoting the pair.
func (c Config) Add(pair string) error {
	k, v, ok := strings.Cut(pair, "=")
	k = strings.TrimSpace(k)
	switch {
	case !ok:
		return fmt.Errorf("%w: %q: want key=value", ErrParam, pair)
	case k == "":
		return fmt.Errorf("%w: %q: empty parameter name", ErrParam, pair)
	}
	if _, dup := c[k]; dup {
		return fmt.Errorf("%w: %s given twice", ErrParam, k)
	}
	c[k] = v
	return nil
}

// FormatLoss writes a loss and its parameters as ParseLoss reads them:
// "iou", or "ce:keras=2" (parameters sorted by name).
func FormatLoss(name string, cfg Config) string {
	if len(cfg) == 0 {
		return name
	}
	parts := make([]string, 0, len(cfg))
	for _, k := range slices.Sorted(maps.Keys(cfg)) {
		parts = append(parts, k+"="+cfg[k])
	}
	return name + ":" + strings.Join(parts, ",")
}
