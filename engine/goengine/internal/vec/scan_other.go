//go:build !amd64 || purego

package vec

// HasDenormal reports whether v holds a denormal float32 (the loop of
// scan_amd64.go's doc comment; no assembly in this build).
func HasDenormal(v []float32) bool { return hasDenormalGo(v) }
