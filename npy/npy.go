// Package npy reads and writes NumPy .npy files as tfops tensors.
//
// Headers are parsed here, as NumPy's format.read_array_header does
// (numpy/lib/format.py: a Python dict literal with exactly the keys
// 'descr', 'fortran_order' and 'shape'), after a bounded pre-check (the
// file is untrusted: header length, shape, dtype and the data size are
// validated before anything is allocated), and the data is decoded in bulk.
// Supported dtypes: float32, float64, int8/16/32/64, uint8/16/32/64, bool,
// little- or big-endian, C or Fortran order. Written files are NumPy format
// 1.0, C order, little-endian, and NumPy reads them back unchanged.
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/tfseg/tfseg/internal/atomicfile"
	"github.com/tfseg/tfseg/tfops"
)

// ErrFormat is returned for files that are not valid .npy files.
var ErrFormat = errors.New("npy: invalid file")

// ErrUnsupported is returned for valid .npy files tfseg cannot hold
// (object, string, complex or float16 arrays).
var ErrUnsupported = errors.New("npy: unsupported array")

// maxHeaderLen bounds the header dictionary (NumPy itself caps it at 10000
// bytes when reading with allow_pickle=False).
const maxHeaderLen = 1 << 16

// Options bound what Read accepts.
type Options struct {
	// MaxBytes is the largest array (in bytes) accepted; 0 means
	// tfops.DefaultMaxTensorBytes.
	MaxBytes int64
}

var magic = []byte("\x93NUMPY")

// Read decodes one .npy array from r.
func Read(r io.Reader, opts Options) (t *tfops.Tensor, err error) {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = tfops.DefaultMaxTensorBytes
	}
	br := bufio.NewReader(r)
	pre, err := br.Peek(10)
	if err != nil {
		return nil, fmt.Errorf("%w: too short for a header: %w", ErrFormat, err)
	}
	if !bytes.Equal(pre[:6], magic) {
		return nil, fmt.Errorf("%w: bad magic %q", ErrFormat, pre[:6])
	}
	var hlen, pfx int
	switch pre[6] {
	case 1:
		hlen, pfx = int(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		p, err := br.Peek(12)
		if err != nil {
			return nil, fmt.Errorf("%w: truncated header: %w", ErrFormat, err)
		}
		v := binary.LittleEndian.Uint32(p[8:12])
		if v > maxHeaderLen {
			return nil, fmt.Errorf("%w: header length %d exceeds %d", ErrFormat, v, maxHeaderLen)
		}
		hlen, pfx = int(v), 12
	default:
		return nil, fmt.Errorf("%w: unknown format version %d.%d", ErrFormat, pre[6], pre[7])
	}
	if hlen > maxHeaderLen || hlen == 0 {
		return nil, fmt.Errorf("%w: header length %d", ErrFormat, hlen)
	}
	head, err := br.Peek(pfx + hlen)
	if err != nil {
		return nil, fmt.Errorf("%w: truncated header (%d bytes announced): %w", ErrFormat, hlen, err)
	}
	dict := string(head[pfx:])
	if !strings.Contains(dict, "\n") {
		return nil, fmt.Errorf("%w: malformed header dictionary %q (no terminating newline)", ErrFormat, strings.TrimSpace(dict))
	}
	hdr, err := parseHeader(dict)
	if err != nil {
		return nil, err
	}
	if _, err := br.Discard(pfx + hlen); err != nil {
		return nil, fmt.Errorf("%w: truncated header: %w", ErrFormat, err)
	}
	d, order, err := parseDescr(hdr.descr)
	if err != nil {
		return nil, err
	}
	dims := hdr.shape
	if err := tfops.CheckAlloc(d, dims, opts.MaxBytes); err != nil {
		return nil, fmt.Errorf("npy: array %v of %v: %w", dims, d, err)
	}
	size := tfops.NumElements(dims) * d.Size()
	// The buffer grows with the data actually read, so that a header
	// claiming more than the file holds costs no more memory than the file.
	var data bytes.Buffer
	if _, err := data.ReadFrom(io.LimitReader(br, int64(size))); err != nil || data.Len() < size {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: data truncated: shape %v of %v needs %d bytes: %w", ErrFormat, dims, d, size, err)
	}
	buf := data.Bytes()
	if order == binary.BigEndian {
		swap(buf, d.Size())
	}
	if d == tfops.Bool {
		for i, b := range buf {
			if b > 1 {
				return nil, fmt.Errorf("%w: bool element %d holds byte %d", ErrFormat, i, b)
			}
		}
	}
	if hdr.fortran && len(dims) > 1 {
		buf = fortranToC(buf, dims, d.Size())
	}
	return tfops.DecodeContent(d, dims, buf)
}

func parseDescr(s string) (tfops.DType, binary.ByteOrder, error) {
	if len(s) < 2 {
		return 0, nil, fmt.Errorf("%w: dtype %q", ErrUnsupported, s)
	}
	var order binary.ByteOrder = binary.LittleEndian
	switch s[0] {
	case '<', '|', '=':
	case '>':
		order = binary.BigEndian
	default:
		return 0, nil, fmt.Errorf("%w: dtype %q", ErrUnsupported, s)
	}
	m := map[string]tfops.DType{
		"f4": tfops.Float, "f8": tfops.Double, "i1": tfops.Int8, "i2": tfops.Int16,
		"i4": tfops.Int32, "i8": tfops.Int64, "u1": tfops.Uint8, "u2": tfops.Uint16,
		"u4": tfops.Uint32, "u8": tfops.Uint64, "b1": tfops.Bool,
	}
	d, ok := m[s[1:]]
	if !ok {
		return 0, nil, fmt.Errorf("%w: dtype %q (supported: float32/64, (u)int8-64, bool)", ErrUnsupported, s)
	}
	return d, order, nil
}

func swap(b []byte, size int) {
	for i := 0; i+size <= len(b); i += size {
		for j := 0; j < size/2; j++ {
			b[i+j], b[i+size-1-j] = b[i+size-1-j], b[i+j]
		}
	}
}

// fortranToC reorders column-major element bytes into row-major.
func fortranToC(src []byte, dims []int, size int) []byte {
	n := tfops.NumElements(dims)
	dst := make([]byte, len(src))
	idx := make([]int, len(dims))
	for f := 0; f < n; f++ {
		// idx is the multi-index of Fortran position f (first axis fastest).
		c := 0
		for k := 0; k < len(dims); k++ {
			c = c*dims[k] + idx[k]
		}
		copy(dst[c*size:(c+1)*size], src[f*size:(f+1)*size])
		for k := 0; k < len(dims); k++ {
			idx[k]++
			if idx[k] < dims[k] {
				break
			}
			idx[k] = 0
		}
	}
	return dst
}

// ReadFile reads a .npy file; errors name the file.
func ReadFile(path string, opts Options) (*tfops.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := Read(f, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Write encodes t as a .npy file (format 1.0, little-endian, C order).
func Write(w io.Writer, t *tfops.Tensor) error {
	descr, ok := map[tfops.DType]string{
		tfops.Float: "<f4", tfops.Double: "<f8", tfops.Int8: "|i1", tfops.Int16: "<i2",
		tfops.Int32: "<i4", tfops.Int64: "<i8", tfops.Uint8: "|u1", tfops.Uint16: "<u2",
		tfops.Uint32: "<u4", tfops.Uint64: "<u8", tfops.Bool: "|b1",
	}[t.DType()]
	if !ok {
		return fmt.Errorf("%w: cannot write a %v tensor", ErrUnsupported, t.DType())
	}
	var shape string
	switch len(t.Shape()) {
	case 0:
		shape = "()"
	case 1:
		shape = fmt.Sprintf("(%d,)", t.Shape()[0])
	default:
		parts := make([]string, len(t.Shape()))
		for i, d := range t.Shape() {
			parts[i] = fmt.Sprint(d)
		}
		shape = "(" + strings.Join(parts, ", ") + ")"
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	// Pad so that the data starts on a 64-byte boundary, as NumPy does.
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	dict += strings.Repeat(" ", pad) + "\n"
	if len(dict) > math.MaxUint16 {
		return fmt.Errorf("%w: header too long", ErrUnsupported)
	}
	var hdr [10]byte
	copy(hdr[:], magic)
	hdr[6], hdr[7] = 1, 0
	binary.LittleEndian.PutUint16(hdr[8:], uint16(len(dict)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	if _, err := io.WriteString(w, dict); err != nil {
		return err
	}
	_, err := w.Write(tfops.EncodeContent(t))
	return err
}

// WriteFile writes t to path atomically: a failed write leaves no file.
func WriteFile(path string, t *tfops.Tensor) error {
	return atomicfile.WriteFunc(path, func(w io.Writer) error { return Write(w, t) })
}
