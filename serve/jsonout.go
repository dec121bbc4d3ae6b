package serve

import (
	"encoding/base64"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/tfseg/tfseg/tfops"
)

// prettyWriter writes JSON as RapidJSON's PrettyWriter (4-space indent)
// does, including its kFormatSingleLineArray mode, which TensorFlow
// Serving switches on for each row of a "predictions" list
// (MakeRowFormatJsonFromTensors in json_tensor.cc), so that the response
// has TensorFlow Serving's layout, not only its JSON (reproduced from
// RapidJSON's PrettyWriter::PrettyPrefix, EndArray and EndObject).
type prettyWriter struct {
	b          []byte
	levels     []prettyLevel
	singleLine bool
}

type prettyLevel struct {
	inArray bool
	count   int
}

func (w *prettyWriter) indent() {
	w.b = append(w.b, '\n')
	for range len(w.levels) * 4 {
		w.b = append(w.b, ' ')
	}
}

// prefix is PrettyWriter::PrettyPrefix.
func (w *prettyWriter) prefix() {
	if len(w.levels) == 0 {
		return
	}
	l := &w.levels[len(w.levels)-1]
	if l.inArray {
		if l.count > 0 {
			w.b = append(w.b, ',')
			if w.singleLine {
				w.b = append(w.b, ' ')
			}
		}
		if !w.singleLine {
			w.indent()
		}
	} else {
		switch {
		case l.count > 0 && l.count%2 == 0:
			w.b = append(w.b, ',')
			w.indent()
		case l.count > 0:
			w.b = append(w.b, ':', ' ')
		default:
			w.indent()
		}
	}
	l.count++
}

func (w *prettyWriter) raw(s string) {
	w.prefix()
	w.b = append(w.b, s...)
}

func (w *prettyWriter) key(k string) { w.raw(strconv.Quote(k)) }

func (w *prettyWriter) start(c byte) {
	w.prefix()
	w.b = append(w.b, c)
	w.levels = append(w.levels, prettyLevel{inArray: c == '['})
}

func (w *prettyWriter) end(c byte) {
	l := w.levels[len(w.levels)-1]
	w.levels = w.levels[:len(w.levels)-1]
	if l.count > 0 && !(c == ']' && w.singleLine) {
		w.indent()
	}
	w.b = append(w.b, c)
}

// formatFloat is WriteDecimal of json_tensor.cc: absl::StrCat's six
// significant digits when they read back to the same value, else
// max_digits10 (9 for float32, 17 for float64); NaN and the infinities as
// NaN, Infinity, -Infinity.
func formatFloat(v float64, bits int) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	s := strconv.FormatFloat(v, 'g', 6, bits)
	s = trimFloat(s)
	if back, err := strconv.ParseFloat(s, bits); err == nil && back == v {
		return s
	}
	digits := 17
	if bits == 32 {
		digits = 9
	}
	return trimFloat(strconv.FormatFloat(v, 'g', digits, bits))
}

// trimFloat turns Go's %g into C's: no trailing zeros in the mantissa and
// a two-digit exponent at least ("1e-07").
func trimFloat(s string) string {
	mant, exp, hasExp := strings.Cut(s, "e")
	if strings.Contains(mant, ".") {
		mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
	}
	if !hasExp {
		return mant
	}
	sign := exp[0]
	digits := exp[1:]
	if len(digits) < 2 {
		digits = "0" + digits
	}
	return mant + "e" + string(sign) + digits
}

// tensorWriter writes one tensor's values (AddTensorValues).
type tensorWriter struct {
	t     *tfops.Tensor
	dims  []int
	bytes bool // a DT_STRING output named *_bytes: {"b64": ...}
	off   int
}

func (tw *tensorWriter) value(w *prettyWriter) error {
	i := tw.off
	tw.off++
	switch d := tw.t.Data().(type) {
	case []float32:
		w.raw(formatFloat(float64(d[i]), 32))
	case []float64:
		w.raw(formatFloat(d[i], 64))
	case []int32:
		w.raw(strconv.FormatInt(int64(d[i]), 10))
	case []int16:
		w.raw(strconv.FormatInt(int64(d[i]), 10))
	case []int8:
		w.raw(strconv.FormatInt(int64(d[i]), 10))
	case []uint8:
		w.raw(strconv.FormatUint(uint64(d[i]), 10))
	case []uint16:
		w.raw(strconv.FormatUint(uint64(d[i]), 10))
	case []uint32:
		w.raw(strconv.FormatUint(uint64(d[i]), 10))
	case []int64:
		w.raw(strconv.FormatInt(d[i], 10))
	case []uint64:
		w.raw(strconv.FormatUint(d[i], 10))
	case []bool:
		w.raw(strconv.FormatBool(d[i]))
	case []string:
		if tw.bytes {
			w.start('{')
			w.key("b64")
			w.raw(strconv.Quote(base64.StdEncoding.EncodeToString([]byte(d[i]))))
			w.end('}')
		} else {
			w.raw(jsonQuote(d[i]))
		}
	default:
		//lint:ignore ST1005 TensorFlow Serving's message, verbatim
		return fmt.Errorf("Failed to write JSON value for tensor type: %s", tfTypeName(tw.t.DType()))
	}
	return nil
}

// jsonQuote quotes s as JSON (strconv.Quote's \x escapes are not JSON).
func jsonQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (tw *tensorWriter) values(w *prettyWriter, dim int) error {
	if dim > len(tw.dims)-1 {
		return tw.value(w)
	}
	w.start('[')
	for range tw.dims[dim] {
		if err := tw.values(w, dim+1); err != nil {
			return err
		}
	}
	w.end(']')
	return nil
}

func newTensorWriter(name string, t *tfops.Tensor) *tensorWriter {
	return &tensorWriter{t: t, dims: t.Shape(), bytes: t.DType() == tfops.String && strings.HasSuffix(name, "_bytes")}
}

// writePredictResponse is MakeJsonFromTensors: "predictions" (row format,
// one entry per row of the first dimension, an object per row when there
// are several outputs) or "outputs" (columnar: the tensor, or an object of
// tensors).
func writePredictResponse(outputs map[string]*tfops.Tensor, format requestFormat) ([]byte, error) {
	if len(outputs) == 0 {
		return nil, invalidArgf("Cannot convert empty tensor map to JSON")
	}
	names := make([]string, 0, len(outputs))
	for n := range outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	w := &prettyWriter{}
	w.start('{')
	multi := len(names) > 1
	if format == formatColumnar {
		w.key("outputs")
		if multi {
			w.start('{')
		}
		for _, n := range names {
			if multi {
				w.key(n)
			}
			if err := newTensorWriter(n, outputs[n]).values(w, 0); err != nil {
				return nil, invalidArg(err)
			}
		}
		if multi {
			w.end('}')
		}
		w.end('}')
		return w.b, nil
	}
	batch := -1
	writers := make([]*tensorWriter, len(names))
	for i, n := range names {
		t := outputs[n]
		if t.Rank() == 0 {
			return nil, invalidArgf("Tensor name: %s has no shape information ", n)
		}
		if b := t.Shape()[0]; batch >= 0 && b != batch {
			return nil, invalidArgf("Tensor name: %s has inconsistent batch size: %d expecting: %d", n, b, batch)
		}
		batch = t.Shape()[0]
		writers[i] = newTensorWriter(n, t)
	}
	w.key("predictions")
	w.start('[')
	for range batch {
		if multi {
			w.start('{')
		}
		w.singleLine = true
		for i, n := range names {
			if multi {
				w.key(n)
			}
			if err := writers[i].values(w, 1); err != nil {
				return nil, invalidArg(err)
			}
		}
		w.singleLine = false
		if multi {
			w.end('}')
		}
	}
	w.end(']')
	w.end('}')
	return w.b, nil
}
