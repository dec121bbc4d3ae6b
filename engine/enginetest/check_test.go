package enginetest

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tfseg/tfseg/tfops"
)

func TestCheck(t *testing.T) {
	nan := float32(math.NaN())
	next := func(x float32, n int) float32 {
		for i := 0; i < n; i++ {
			x = math.Nextafter32(x, float32(math.Inf(1)))
		}
		return x
	}
	cases := []struct {
		name       string
		tol        Tolerance
		want, got  *tfops.Tensor
		ok         bool
		wantSubstr string
	}{
		{"equal", Exact, tfops.MustFromSlice([]float32{1, 2}), tfops.MustFromSlice([]float32{1, 2}), true, ""},
		{"nan matches nan", Exact, tfops.MustFromSlice([]float32{nan}), tfops.MustFromSlice([]float32{nan}), true, ""},
		{"nan vs number", Elementwise, tfops.MustFromSlice([]float32{nan}), tfops.MustFromSlice([]float32{1}), false, "[0] = 1, want NaN"},
		{"4 ulp ok", Elementwise, tfops.MustFromSlice([]float32{1}), tfops.MustFromSlice([]float32{next(1, 4)}), true, ""},
		{"5 ulp bad", Elementwise, tfops.MustFromSlice([]float32{1}), tfops.MustFromSlice([]float32{next(1, 5)}), false, "5 ulp"},
		{"signed zeros 0 ulp", Exact, tfops.MustFromSlice([]float32{0}), tfops.MustFromSlice([]float32{float32(math.Copysign(0, -1))}), true, ""},
		{"inf mismatch", Reduction, tfops.MustFromSlice([]float64{math.Inf(1)}), tfops.MustFromSlice([]float64{math.MaxFloat64}), false, "want +Inf"},
		{"relative ok", Reduction, tfops.MustFromSlice([]float64{1}), tfops.MustFromSlice([]float64{1 + 5e-7}), true, ""},
		{"relative bad", Reduction, tfops.MustFromSlice([]float64{1}), tfops.MustFromSlice([]float64{1 + 2e-6}), false, "rel 2e-06"},
		{"absolute ok", Tolerance{Abs: 0.1}, tfops.MustFromSlice([]float64{0}), tfops.MustFromSlice([]float64{0.05}), true, ""},
		{"ints differ", Exact, tfops.MustFromSlice([]int32{1, 2, 3}), tfops.MustFromSlice([]int32{1, 5, 3}), false, "[1] = 5, want 2"},
		{"bools differ", Exact, tfops.MustFromSlice([]bool{true}), tfops.MustFromSlice([]bool{false}), false, "1 of 1"},
		{"shape differs", Exact, tfops.MustFromSlice([]int32{1, 2}, 2, 1), tfops.MustFromSlice([]int32{1, 2}), false, "shape"},
		{"dtype differs", Exact, tfops.MustFromSlice([]int32{1}), tfops.MustFromSlice([]int64{1}), false, "dtype int64, want int32"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := check(tc.tol, tc.want, tc.got)
			assert.Equal(t, tc.ok, d.msg == "", "message %q", d.msg)
			assert.Contains(t, d.msg, tc.wantSubstr)
		})
	}
	assert.Equal(t, "no value", check(Exact, tfops.FromScalar(int32(1)), nil).msg)
}

func TestULP(t *testing.T) {
	assert.Equal(t, int64(1), ulp32(0, math.SmallestNonzeroFloat32))
	assert.Equal(t, int64(2), ulp32(-math.SmallestNonzeroFloat32, math.SmallestNonzeroFloat32))
	assert.Equal(t, int64(1), ulp64(1, math.Nextafter(1, 2)))
	assert.Equal(t, int64(math.MaxInt64), ulp64(-math.MaxFloat64, math.MaxFloat64))
	assert.Equal(t, int64(0), ulp64(math.NaN(), math.NaN()))
}

// Every case builds a valid graph whose fetches match its expectations.
func TestCasesBuild(t *testing.T) {
	cs := Cases()
	require.Greater(t, len(cs), 400)
	ops := map[string]bool{}
	for _, c := range cs {
		s := tfops.NewScope()
		g := c.Build(s)
		_, err := s.Finalize()
		require.NoError(t, err, c.Name)
		require.NotEmpty(t, g.Fetches, c.Name)
		if !g.WantErr {
			require.Len(t, g.Want, len(g.Fetches), c.Name)
			for i, w := range g.Want {
				assert.Equal(t, w.DType(), g.Fetches[i].DType(), "%s fetch %d", c.Name, i)
				assert.True(t, g.Fetches[i].Shape().CompatibleWith(w.StaticShape()), "%s fetch %d: static %v, want %v",
					c.Name, i, g.Fetches[i].Shape(), w.Shape())
			}
		}
		assert.NotEmpty(t, c.Description, c.Name)
		ops[c.Op] = true
	}
	// Every op of the agreed tfops API has at least one case.
	for _, op := range []string{"Identity", "Neg", "Abs", "Exp", "Expm1", "Log", "Log1p", "Sigmoid", "Tanh", "Relu", "Relu6",
		"Elu", "Square", "Sqrt", "Rsqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Softmax", "LogSoftmax", "ZerosLike",
		"OnesLike", "LogicalNot", "IsNan", "IsInf", "IsFinite", "AddV2", "Sub", "Mul", "RealDiv", "DivNoNan", "Maximum", "Minimum",
		"Pow", "SquaredDifference", "FloorDiv", "FloorMod", "LogicalAnd", "LogicalOr", "Equal", "NotEqual", "Greater",
		"GreaterEqual", "Less", "LessEqual", "ClipByValue", "Sum", "Mean", "Max", "Min", "Prod", "All", "Any", "ArgMax", "ArgMin",
		"Shape", "Size", "Rank", "Cast", "Reshape", "SelectV2", "TopKV2", "GatherV2", "Cumsum", "OneHot", "ExpandDims", "Squeeze",
		"Fill", "Pack", "Unpack", "ConcatV2", "StridedSlice", "Slice", "Range", "Tile", "Transpose", "BroadcastTo", "Pad"} {
		assert.True(t, ops[op], "no case for %s", op)
	}
}

func TestPowRef(t *testing.T) {
	cases := []struct{ x, y, want float64 }{
		{2, 10, 1024}, {2, 0.5, math.Sqrt2}, {10, -2, 0.01}, {1e-200, 1.5, 1e-300}, {-3, 3, -27},
		{9, 0.5, 3}, {2, -1074, 5e-324}, {2, 1024, math.Inf(1)}, {0, -1, math.Inf(1)},
		{math.E, 1, math.E}, {7, 1.0 / 3, 1.912931182772389},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, powRef(c.x, c.y), "pow(%v, %v)", c.x, c.y)
	}
	assert.True(t, math.IsNaN(powRef(-8, 1.0/3)))
}
