package npy_test

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/npy"
	"github.com/tfseg/tfseg/tfops"
)

func asFloat64(t *tfops.Tensor) []float64 {
	v, _ := t.AsFloat64s()
	return v
}

// TestReadNumPyFiles reads files written by NumPy (scripts/goldens_npy.py)
// and compares every element, bit for bit, with what NumPy printed.
func TestReadNumPyFiles(t *testing.T) {
	f, err := os.Open("testdata/expected.txt")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		require.Len(t, parts, 4)
		name, shapeText, valsText := parts[0], parts[2], parts[3]
		t.Run(name, func(t *testing.T) {
			got, err := npy.ReadFile(filepath.Join("testdata", name+".npy"), npy.Options{})
			require.NoError(t, err)
			wantShape := []int{}
			if shapeText != "" {
				for _, s := range strings.Split(shapeText, ",") {
					d, _ := strconv.Atoi(s)
					wantShape = append(wantShape, d)
				}
			}
			assert.Equal(t, wantShape, got.Shape())
			var want []float64
			for _, s := range strings.Fields(valsText) {
				v, err := strconv.ParseFloat(s, 64)
				require.NoError(t, err)
				want = append(want, v)
			}
			gotv := asFloat64(got)
			require.Len(t, gotv, len(want))
			for i := range want {
				if math.IsNaN(want[i]) {
					assert.True(t, math.IsNaN(gotv[i]), "element %d", i)
					continue
				}
				assert.Equal(t, math.Float64bits(want[i]), math.Float64bits(gotv[i]), "element %d: want %v got %v", i, want[i], gotv[i])
			}
		})
		n++
	}
	require.Greater(t, n, 5)
}

// TestWriteMatchesNumPy checks that Write produces NumPy's own bytes.
func TestWriteMatchesNumPy(t *testing.T) {
	for _, name := range []string{"f4_2x3x4", "f8_2x3x4", "i4_vec", "i8_vec", "u1_mask", "b1_mask", "f4_scalar", "f4_empty", "f4_special"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name+".npy")
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			tt, err := npy.ReadFile(path, npy.Options{})
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, npy.Write(&buf, tt))
			assert.Equal(t, want, buf.Bytes())
		})
	}
}

func TestBadInput(t *testing.T) {
	good, err := os.ReadFile("testdata/f4_2x3x4.npy")
	require.NoError(t, err)
	flip := func(i int, b byte) []byte { c := append([]byte{}, good...); c[i] = b; return c }
	// mk builds a version 1.0 file with the given header dictionary.
	mk := func(dict string, data []byte) []byte {
		dict += "\n"
		b := append([]byte("\x93NUMPY\x01\x00"), byte(len(dict)), byte(len(dict)>>8))
		return append(append(b, dict...), data...)
	}
	huge := mk("{'descr': '<f4', 'fortran_order': False, 'shape': (9999999, 99999, 4), }", nil)
	neg := mk("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3, 4), }", make([]byte, 96))
	obj := mk("{'descr': '|O8', 'fortran_order': False, 'shape': (2,), }", make([]byte, 16))
	cases := []struct {
		name, want string
		data       []byte
	}{
		{"empty", "too short", nil},
		{"bad magic", "bad magic", flip(1, 'X')},
		{"bad version", "unknown format version", flip(6, 9)},
		{"truncated header", "truncated header", good[:40]},
		{"truncated data", "data truncated", good[:len(good)-3]},
		{"huge shape", "too large", huge},
		{"negative dim", "negative dimension", neg},
		{"object dtype", "unsupported", obj},
		{"garbage dict", "malformed header", append(append([]byte{}, good[:10]...), bytes.Repeat([]byte{'x'}, 200)...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := npy.Read(bytes.NewReader(c.data), npy.Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.npy")
	require.NoError(t, npy.WriteFile(p, tfops.MustFromSlice([]float32{1, 2, 3}, 3)))
	got, err := npy.ReadFile(p, npy.Options{})
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2, 3}, got.Float32s())
	// A tensor npy cannot write leaves neither the file nor a temporary.
	bad, _ := tfops.Zeros(tfops.Resource, 1)
	require.Error(t, npy.WriteFile(filepath.Join(dir, "bad.npy"), bad))
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1)
}

func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.npy")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tt, err := npy.Read(bytes.NewReader(data), npy.Options{MaxBytes: 1 << 20})
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := npy.Write(&buf, tt); err != nil {
			t.Fatalf("read a %v tensor that cannot be written back: %v", tt.DType(), err)
		}
		back, err := npy.Read(&buf, npy.Options{})
		if err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if !bytes.Equal(tfops.EncodeContent(back), tfops.EncodeContent(tt)) {
			t.Fatal("round trip changed the data")
		}
	})
}
