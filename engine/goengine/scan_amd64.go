//go:build amd64 && !purego

package goengine

// hasDenormalAVX512 reports whether any of the n float32s at x is
// denormal (zero exponent field, non-zero fraction).
//
//go:noescape
func hasDenormalAVX512(x *float32, n int) bool

// hasDenormal32 reports whether v holds a denormal float32.
func hasDenormal32(v []float32) bool {
	if hasAVX512 && len(v) > 0 {
		return hasDenormalAVX512(&v[0], len(v))
	}
	return hasDenormal32Go(v)
}
