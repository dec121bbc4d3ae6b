package serve

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonKind is the type of a parsed JSON value.
type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonFalse
	jsonTrue
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

// kindName is RapidJSON's name for each type, as TensorFlow Serving's
// JsonTypeString (tensorflow_serving/util/json_tensor.cc) prints it in
// error messages.
var kindName = [...]string{"Null", "False", "True", "Number", "String", "Array", "Object"}

// jsonValue is one parsed JSON value. Numbers keep their text, so that an
// integer input can reject 1.5 and a float input can read NaN, as RapidJSON
// does for TensorFlow Serving. Objects keep their keys in order.
type jsonValue struct {
	kind jsonKind
	text string // number text or string value
	arr  []jsonValue
	keys []string
	vals []jsonValue
}

func (v *jsonValue) member(key string) (*jsonValue, bool) {
	for i, k := range v.keys {
		if k == key {
			return &v.vals[i], true
		}
	}
	return nil, false
}

// isB64 reports whether v is {"b64": "<string>"}, TensorFlow Serving's
// encoding of binary strings (IsValBase64Object in json_tensor.cc).
func (v *jsonValue) isB64() bool {
	return v.kind == jsonObject && len(v.keys) == 1 && v.keys[0] == "b64" && v.vals[0].kind == jsonString
}

// maxJSONDepth bounds nesting, so a hostile body cannot exhaust the stack.
const maxJSONDepth = 128

// parseJSON parses a whole document. Like TensorFlow Serving's ParseJson
// (RapidJSON with kParseNanAndInfFlag) it accepts the NaN, Infinity and
// -Infinity tokens; errors name the byte offset, as RapidJSON's do.
func parseJSON(data []byte) (jsonValue, error) {
	if len(data) == 0 {
		return jsonValue{}, fmt.Errorf("JSON Parse error: The document is empty")
	}
	p := jsonParser{data: data}
	p.space()
	if p.pos == len(data) {
		return jsonValue{}, fmt.Errorf("JSON Parse error: The document is empty")
	}
	v, err := p.value(0)
	if err != nil {
		return jsonValue{}, err
	}
	p.space()
	if p.pos != len(data) {
		return jsonValue{}, p.errorf("The document root must not be followed by other values")
	}
	return v, nil
}

type jsonParser struct {
	data []byte
	pos  int
}

func (p *jsonParser) errorf(msg string) error {
	return fmt.Errorf("JSON Parse error: %s at offset: %d", msg, p.pos)
}

func (p *jsonParser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jsonParser) literal(word string) bool {
	if strings.HasPrefix(string(p.data[p.pos:min(len(p.data), p.pos+len(word))]), word) {
		p.pos += len(word)
		return true
	}
	return false
}

func (p *jsonParser) value(depth int) (jsonValue, error) {
	if depth > maxJSONDepth {
		return jsonValue{}, p.errorf(fmt.Sprintf("Nesting deeper than %d levels", maxJSONDepth))
	}
	if p.pos >= len(p.data) {
		return jsonValue{}, p.errorf("Invalid value.")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		return jsonValue{kind: jsonString, text: s}, err
	case c == 't' && p.literal("true"):
		return jsonValue{kind: jsonTrue}, nil
	case c == 'f' && p.literal("false"):
		return jsonValue{kind: jsonFalse}, nil
	case c == 'n' && p.literal("null"):
		return jsonValue{kind: jsonNull}, nil
	case c == 'N' && p.literal("NaN"):
		return jsonValue{kind: jsonNumber, text: "NaN"}, nil
	case c == 'I' && p.literal("Infinity"):
		return jsonValue{kind: jsonNumber, text: "Infinity"}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return jsonValue{}, p.errorf("Invalid value.")
}

func (p *jsonParser) number() (jsonValue, error) {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
		if p.literal("Infinity") {
			return jsonValue{kind: jsonNumber, text: "-Infinity"}, nil
		}
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	if digits() == 0 {
		return jsonValue{}, p.errorf("Invalid value.")
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return jsonValue{}, p.errorf("Missing fraction part in number.")
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return jsonValue{}, p.errorf("Missing exponent in number.")
		}
	}
	text := string(p.data[start:p.pos])
	if f, err := strconv.ParseFloat(text, 64); err != nil && math.IsInf(f, 0) {
		p.pos = start
		return jsonValue{}, p.errorf("Number too big to be stored in double.")
	}
	return jsonValue{kind: jsonNumber, text: text}, nil
}

func (p *jsonParser) str() (string, error) {
	p.pos++ // opening quote
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '"' {
			s := p.data[start:p.pos]
			p.pos++
			if !utf8.Valid(s) {
				return "", p.errorf("Invalid encoding in string.")
			}
			return string(s), nil
		}
		if c == '\\' {
			return p.escapedStr(start)
		}
		if c < 0x20 {
			return "", p.errorf("Invalid value.")
		}
		p.pos++
	}
	return "", p.errorf("Missing a closing quotation mark in string.")
}

// escapedStr finishes a string that contains escapes, with strconv's
// unquoting (JSON escapes are a subset of Go's, \/ aside).
func (p *jsonParser) escapedStr(start int) (string, error) {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case '\\':
			p.pos += 2
			continue
		case '"':
			raw := strings.ReplaceAll(string(p.data[start:p.pos]), `\/`, `/`)
			p.pos++
			s, err := strconv.Unquote(`"` + raw + `"`)
			if err != nil {
				return "", p.errorf("Invalid escape character in string.")
			}
			return s, nil
		}
		p.pos++
	}
	return "", p.errorf("Missing a closing quotation mark in string.")
}

func (p *jsonParser) array(depth int) (jsonValue, error) {
	p.pos++
	v := jsonValue{kind: jsonArray, arr: []jsonValue{}}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		p.space()
		e, err := p.value(depth + 1)
		if err != nil {
			return v, err
		}
		v.arr = append(v.arr, e)
		p.space()
		if p.pos >= len(p.data) {
			return v, p.errorf("Missing a comma or ']' after an array element.")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, nil
		default:
			return v, p.errorf("Missing a comma or ']' after an array element.")
		}
	}
}

func (p *jsonParser) object(depth int) (jsonValue, error) {
	p.pos++
	v := jsonValue{kind: jsonObject}
	p.space()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	for {
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return v, p.errorf("Missing a name for object member.")
		}
		k, err := p.str()
		if err != nil {
			return v, err
		}
		p.space()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return v, p.errorf("Missing a colon after a name of object member.")
		}
		p.pos++
		p.space()
		e, err := p.value(depth + 1)
		if err != nil {
			return v, err
		}
		v.keys = append(v.keys, k)
		v.vals = append(v.vals, e)
		p.space()
		if p.pos >= len(p.data) {
			return v, p.errorf("Missing a comma or '}' after an object member.")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return v, nil
		default:
			return v, p.errorf("Missing a comma or '}' after an object member.")
		}
	}
}

// debugString prints v compactly, at most 256 bytes, for error messages
// (JsonValueToDebugString in json_tensor.cc caps its output the same way).
func (v *jsonValue) debugString() string {
	var b strings.Builder
	v.write(&b)
	s := b.String()
	if len(s) > 256 {
		s = s[:256] + "..."
	}
	return s
}

func (v *jsonValue) write(b *strings.Builder) {
	if b.Len() > 256 {
		return
	}
	switch v.kind {
	case jsonNull:
		b.WriteString("null")
	case jsonFalse:
		b.WriteString("false")
	case jsonTrue:
		b.WriteString("true")
	case jsonNumber:
		b.WriteString(v.text)
	case jsonString:
		b.WriteString(strconv.Quote(v.text))
	case jsonArray:
		b.WriteByte('[')
		for i := range v.arr {
			if i > 0 {
				b.WriteByte(',')
			}
			v.arr[i].write(b)
		}
		b.WriteByte(']')
	case jsonObject:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(k))
			b.WriteByte(':')
			v.vals[i].write(b)
		}
		b.WriteByte('}')
	}
}
