package goengine

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPow64Libm checks pow64 against the C library's pow (which
// TensorFlow calls) on values from testdata/pow_libm.py: within 2 ulp,
// where math.Pow is thousands of ulp off for results of large exponent.
func TestPow64Libm(t *testing.T) {
	f, err := os.Open("testdata/pow_libm.txt")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	worst, worstGo, n := int64(0), int64(0), 0
	ulps := func(a, b float64) int64 {
		d := int64(math.Float64bits(a)) - int64(math.Float64bits(b))
		if d < 0 {
			d = -d
		}
		return d
	}
	for sc.Scan() {
		p := strings.Fields(sc.Text())
		require.Len(t, p, 3)
		var v [3]float64
		for i := range v {
			v[i], err = strconv.ParseFloat(p[i], 64)
			require.NoError(t, err)
		}
		got := pow64(v[0], v[1])
		assert.LessOrEqual(t, ulps(got, v[2]), int64(2), "pow(%v, %v) = %v, libm %v", v[0], v[1], got, v[2])
		worst = max(worst, ulps(got, v[2]))
		worstGo = max(worstGo, ulps(math.Pow(v[0], v[1]), v[2]))
		n++
	}
	require.Equal(t, 600, n)
	t.Logf("pow64: worst %d ulp from libm; math.Pow: %d ulp", worst, worstGo)
}

func TestPow64Special(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	cases := []struct{ x, y, want float64 }{
		{2, 10, 1024}, {-2, 3, -8}, {-2, 2, 4}, {-8, 1.0 / 3, nan}, {0, -1, inf},
		{math.Copysign(0, -1), -1, -inf}, {1, nan, 1}, {nan, 0, 1}, {-1, inf, 1}, {0.5, inf, 0},
		{2, -1074, 5e-324}, {10, 308, 1e308}, {10, 309, inf}, {9, 0.5, 3}, {inf, -2, 0},
	}
	for _, c := range cases {
		got := pow64(c.x, c.y)
		if math.IsNaN(c.want) {
			assert.True(t, math.IsNaN(got), "pow(%v, %v) = %v", c.x, c.y, got)
			continue
		}
		if math.IsInf(c.want, 0) || c.want == 0 || c.want == 5e-324 {
			assert.Equal(t, c.want, got, "pow(%v, %v)", c.x, c.y)
			continue
		}
		// Within 2 ulp (math.Exp's error) of the exact value.
		assert.InEpsilon(t, c.want, got, 2*0x1p-52, "pow(%v, %v)", c.x, c.y)
	}
}

func TestLogDD(t *testing.T) {
	// hi and lo from Python: Decimal(x).ln() split into two doubles.
	for _, c := range []struct {
		x      float64
		hi, lo float64
	}{{2, 0.6931471805599453, 2.3190468138462996e-17}, {10, 2.302585092994046, -2.1707562233822494e-16}} {
		h, l := logDD(c.x)
		assert.Equal(t, c.hi, h)
		assert.InDelta(t, c.lo, l, 1e-21) // about 2^-70 relative
	}
}
