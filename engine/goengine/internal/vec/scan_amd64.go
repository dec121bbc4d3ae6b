//go:build amd64 && !purego

package vec

// hasDenormalAVX512 reports whether any of the n float32s at x is
// denormal (zero exponent field, non-zero fraction).
//
//go:noescape
func hasDenormalAVX512(x *float32, n int) bool

// HasDenormal reports whether v holds a denormal float32:
//
//	for _, x := range v {
//		if IsDenormal32(x) {
//			return true
//		}
//	}
//	return false
func HasDenormal(v []float32) bool {
	if hasAVX512 && len(v) > 0 {
		return hasDenormalAVX512(&v[0], len(v))
	}
	return hasDenormalGo(v)
}
