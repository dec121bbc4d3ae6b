package npy

import (
	"fmt"
	"strconv"
	"strings"
)

// header is a parsed .npy header dictionary.
type header struct {
	descr   string
	fortran bool
	shape   []int
}

// parseHeader parses the header dictionary as NumPy's
// format.read_array_header (numpy/lib/format.py) reads it with
// ast.literal_eval: a dict literal with exactly the keys 'descr' (a dtype
// string; a list, NumPy's structured dtypes, is unsupported),
// 'fortran_order' (True or False) and 'shape' (a tuple of non-negative
// ints), padded with spaces and ending in a newline.
func parseHeader(dict string) (header, error) {
	p := &headerParser{s: dict}
	var h header
	bad := func(format string, args ...any) (header, error) {
		return header{}, fmt.Errorf("%w: malformed header dictionary %q: %s", ErrFormat, strings.TrimSpace(dict), fmt.Sprintf(format, args...))
	}
	if !p.eat('{') {
		return bad("want '{' at offset %d", p.i)
	}
	seen := map[string]bool{}
	for {
		if p.eat('}') {
			break
		}
		key, ok := p.str()
		if !ok {
			return bad("want a quoted key at offset %d", p.i)
		}
		if seen[key] {
			return bad("key %q twice", key)
		}
		seen[key] = true
		if !p.eat(':') {
			return bad("want ':' after key %q", key)
		}
		switch key {
		case "descr":
			if p.peek() == '[' {
				return header{}, fmt.Errorf("%w: structured dtype (a list descr)", ErrUnsupported)
			}
			if h.descr, ok = p.str(); !ok {
				return bad("descr is not a string")
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
			default:
				return bad("fortran_order is not True or False")
			}
		case "shape":
			if h.shape, ok = p.tuple(); !ok {
				return bad("shape is not a tuple of non-negative integers")
			}
			for _, d := range h.shape {
				if d < 0 {
					return header{}, fmt.Errorf("%w: negative dimension in shape %v", ErrFormat, h.shape)
				}
			}
		default:
			return bad("unexpected key %q (want descr, fortran_order, shape)", key)
		}
		if !p.eat(',') {
			if !p.eat('}') {
				return bad("want ',' or '}' at offset %d", p.i)
			}
			break
		}
	}
	if len(seen) != 3 {
		return bad("want the keys descr, fortran_order and shape")
	}
	if rest := strings.TrimRight(p.s[p.i:], " \n"); rest != "" {
		return bad("trailing %q", rest)
	}
	return h, nil
}

// headerParser reads the Python literals of a header dictionary.
type headerParser struct {
	s string
	i int
}

func (p *headerParser) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *headerParser) peek() byte {
	p.skip()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// eat consumes c if it is next.
func (p *headerParser) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

// word consumes the identifier w if it is next.
func (p *headerParser) word(w string) bool {
	p.skip()
	if strings.HasPrefix(p.s[p.i:], w) {
		end := p.i + len(w)
		if end == len(p.s) || !isIdent(p.s[end]) {
			p.i = end
			return true
		}
	}
	return false
}

func isIdent(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// str reads a single- or double-quoted string without escapes (dtype
// strings and the three keys have none).
func (p *headerParser) str() (string, bool) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", false
	}
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", false
	}
	v := p.s[p.i+1 : p.i+1+end]
	if strings.ContainsRune(v, '\\') {
		return "", false
	}
	p.i += end + 2
	return v, true
}

// tuple reads (), (n,) or (n, m, ...) of integers; Python 2's
// long suffix (3L) is accepted, as NumPy files written by Python 2 have it.
func (p *headerParser) tuple() ([]int, bool) {
	if !p.eat('(') {
		return nil, false
	}
	dims := []int{}
	for {
		if p.eat(')') {
			return dims, true
		}
		p.skip()
		start := p.i
		if p.i < len(p.s) && p.s[p.i] == '-' {
			p.i++ // a negative dimension: parsed, for the caller to report
		}
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		n, err := strconv.Atoi(p.s[start:p.i])
		if err != nil {
			return nil, false
		}
		if p.i < len(p.s) && p.s[p.i] == 'L' {
			p.i++
		}
		dims = append(dims, n)
		if !p.eat(',') {
			if !p.eat(')') {
				return nil, false
			}
			return dims, true
		}
	}
}
