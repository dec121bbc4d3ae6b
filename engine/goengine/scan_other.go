//go:build !amd64 || purego

package goengine

// hasDenormal32 reports whether v holds a denormal float32.
func hasDenormal32(v []float32) bool { return hasDenormal32Go(v) }
