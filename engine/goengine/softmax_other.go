//go:build !amd64 || purego

package goengine

// This build (another architecture, or the purego tag) has no assembly
// for softmaxPairs32: it runs its Go loops.
var softmaxPairsVec = false

func softmaxPairsShiftAVX512(x, y *float32, n int) { panic("unreachable") }

func softmaxPairsScaleAVX512(y *float32, n int) { panic("unreachable") }
