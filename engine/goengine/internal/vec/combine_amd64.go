//go:build amd64 && !purego

package vec

//go:noescape
func combineLanesAVX(lanes, out *float64, n int)

// CombineLanesN sets out[i] to CombineLanes of the i-th SumLaneCount
// lanes of lanes, for i < len(out), with the same bits (AVX assembly
// where the CPU has AVX2).
func CombineLanesN(lanes, out []float64) {
	if len(out) == 0 {
		return
	}
	_ = lanes[len(out)*SumLaneCount-1]
	if hasAVX2 {
		combineLanesAVX(&lanes[0], &out[0], len(out))
		return
	}
	combineLanesGo(lanes, out)
}
