package npy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestParseHeader covers header dictionaries as NumPy writes them (format
// 1.0 and Python 2's longs) and ones it would reject.
func TestParseHeader(t *testing.T) {
	ok := []struct {
		dict  string
		descr string
		fort  bool
		shape []int
	}{
		{"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }          \n", "<f4", false, []int{2, 3}},
		{"{'descr': '|b1', 'fortran_order': True, 'shape': (5,), }\n", "|b1", true, []int{5}},
		{"{'descr': '<i8', 'fortran_order': False, 'shape': (), }\n", "<i8", false, []int{}},
		{"{'descr': '<u2', 'fortran_order': False, 'shape': (3L, 4L)}\n", "<u2", false, []int{3, 4}},
		{"{\"shape\": (1, 0), \"fortran_order\": False, \"descr\": \">f8\"}\n", ">f8", false, []int{1, 0}},
	}
	for _, c := range ok {
		h, err := parseHeader(c.dict)
		require.NoError(t, err, c.dict)
		assert.Equal(t, header{c.descr, c.fort, c.shape}, h, c.dict)
	}
	bad := map[string]string{
		"{'descr': '<f4', 'fortran_order': False}\n":                                "want the keys",
		"{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}\n":                     "fortran_order is not True or False",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}\n":         `unexpected key "x"`,
		"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\n": `key "descr" twice`,
		"{'descr': '<f4', 'fortran_order': False, 'shape': [1]}\n":                  "shape is not a tuple",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk\n":            "trailing",
		"{'descr': '<f4', 'fortran_order': Falsey, 'shape': (1,)}\n":                "fortran_order",
	}
	for dict, want := range bad {
		_, err := parseHeader(dict)
		require.ErrorIs(t, err, ErrFormat, dict)
		assert.Contains(t, err.Error(), want, dict)
	}
	_, err := parseHeader("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}\n")
	assert.ErrorIs(t, err, ErrUnsupported)
}
