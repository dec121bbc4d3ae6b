//go:build !amd64 || purego

package vec

// CombineLanesN sets out[i] to CombineLanes of the i-th SumLaneCount
// lanes of lanes, for i < len(out).
func CombineLanesN(lanes, out []float64) { combineLanesGo(lanes, out) }
