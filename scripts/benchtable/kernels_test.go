package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The read loops really read: every kernel sums what the Go loop sums.
func TestReadKernels(t *testing.T) {
	s := make([]float32, 32*37)
	want := float32(0)
	for i := range s {
		s[i] = float32(i%13) - 6
		want += s[i]
	}
	_, read := readKernel()
	assert.Equal(t, want, readGo(s))
	assert.Equal(t, want, read(s))
	assert.Equal(t, float32(0), read(nil))
	assert.Equal(t, float32(0), read(s[:31]), "fewer than 32 values: nothing to stream")
}

// Every FMA loop runs on this CPU and returns (zero operands: zero).
func TestFMAKernels(t *testing.T) {
	ks := fmaKernels()
	assert.Equal(t, "scalar math.FMA (Go, float64)", ks[len(ks)-1].name)
	for _, k := range ks[:len(ks)-1] {
		assert.Equal(t, float32(0), k.run(1000), k.name)
		assert.Equal(t, float32(0), k.run(0), k.name)
	}
	assert.InDelta(t, 8*1e-6, float64(fmaScalar(1000)), 1e-8) // 8 chains of a = 0.999999a + 1e-9
}

func TestSplit(t *testing.T) {
	lo, hi := split(1000, 3, 1)
	assert.Equal(t, 320, lo)
	assert.Equal(t, 640, hi)
}
