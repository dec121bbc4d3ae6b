package weightmap

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// floodLabel is an independent reference: a breadth-first flood fill started
// at every unlabeled foreground pixel in raster order, so objects are numbered
// by their first pixel.
func floodLabel(fg []bool, h, w int, conn Connectivity) ([]int32, int) {
	out := make([]int32, len(fg))
	n := int32(0)
	var queue []int
	for s := range fg {
		if !fg[s] || out[s] != 0 {
			continue
		}
		n++
		out[s] = n
		queue = append(queue[:0], s)
		for len(queue) > 0 {
			p := queue[0]
			queue = queue[1:]
			y, x := p/w, p%w
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					if (dy == 0 && dx == 0) || (conn == Conn4 && dy != 0 && dx != 0) {
						continue
					}
					yy, xx := y+dy, x+dx
					if yy < 0 || yy >= h || xx < 0 || xx >= w {
						continue
					}
					q := yy*w + xx
					if fg[q] && out[q] == 0 {
						out[q] = n
						queue = append(queue, q)
					}
				}
			}
		}
	}
	return out, int(n)
}

// checkLabeling returns "" when labels, n equal the flood-fill reference.
func checkLabeling(fg []bool, h, w int, conn Connectivity, labels []int32, n int) string {
	want, wn := floodLabel(fg, h, w, conn)
	if n != wn {
		return fmt.Sprintf("got %d objects, want %d", n, wn)
	}
	for i := range want {
		if labels[i] != want[i] {
			return fmt.Sprintf("pixel %d (row %d, col %d): label %d, want %d", i, i/w, i%w, labels[i], want[i])
		}
	}
	return ""
}

func TestLabel(t *testing.T) {
	tests := []struct {
		name string
		mask []uint8
		h, w int
		conn Connectivity
		want []int32
		n    int
	}{
		{"empty image", nil, 0, 3, Conn4, []int32{}, 0},
		{"background", []uint8{0, 0, 0, 0}, 2, 2, Conn4, []int32{0, 0, 0, 0}, 0},
		{"diagonal 4", []uint8{1, 0, 1, 0, 1, 0, 1, 0, 1}, 3, 3, Conn4, []int32{1, 0, 2, 0, 3, 0, 4, 0, 5}, 5},
		{"diagonal 8", []uint8{1, 0, 1, 0, 1, 0, 1, 0, 1}, 3, 3, Conn8, []int32{1, 0, 1, 0, 1, 0, 1, 0, 1}, 1},
		// A U shape: two provisional labels merge later; numbering stays by first pixel.
		{"U merge", []uint8{0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1}, 3, 4, Conn4, []int32{0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1}, 1},
		// The object whose first pixel comes first gets 1 even if another starts left of it later.
		{"raster order", []uint8{0, 0, 1, 1, 0, 1, 1, 0, 0}, 3, 3, Conn4, []int32{0, 0, 1, 2, 0, 1, 2, 0, 0}, 2},
		{"255 mask", []uint8{255, 0, 255}, 1, 3, Conn8, []int32{1, 0, 2}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := Label(tc.mask, tc.h, tc.w, tc.conn)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.n, n)
		})
	}
}

func TestLabelErrors(t *testing.T) {
	_, _, err := Label([]uint8{0, 1, 2}, 1, 3, Conn4)
	assert.ErrorIs(t, err, ErrMask)
	assert.ErrorContains(t, err, "value 2 at index 2 [0 2]")
	_, _, err = Label([]uint8{0, 1, 1}, 2, 2, Conn4)
	assert.ErrorIs(t, err, ErrShape)
	_, _, err = Label([]uint8{0, 1}, 1, 2, Connectivity(6))
	assert.ErrorIs(t, err, ErrOption)
	assert.ErrorContains(t, err, "connectivity 6")
}

func TestLabelRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, sz := range [][2]int{{1, 1}, {1, 50}, {50, 1}, {31, 47}, {120, 90}} {
		for _, p := range []float64{0.2, 0.5, 0.7} {
			h, w := sz[0], sz[1]
			fg := make([]bool, h*w)
			for i := range fg {
				fg[i] = r.Float64() < p
			}
			for _, conn := range []Connectivity{Conn4, Conn8} {
				labels, n, err := Label(fg, h, w, conn)
				require.NoError(t, err)
				if msg := checkLabeling(fg, h, w, conn, labels, n); msg != "" {
					t.Fatalf("%dx%d p=%v %v: %s", h, w, p, conn, msg)
				}
			}
		}
	}
}
