//go:build amd64 && !purego

package goengine

import "golang.org/x/sys/cpu"

// softmaxPairsVec is set when softmaxPairs32 runs its two passes around
// the exps with AVX-512 (softmax_amd64.s) on whole vectors of 8 pairs.
var softmaxPairsVec = cpu.X86.HasAVX512F

// softmaxPairsShiftAVX512 sets y[i], y[i+1] = x[i] - m, x[i+1] - m with m
// = max(x[i], x[i+1]) as softmaxPairs32's loop takes it (NaN propagating),
// for the n floats of x (n a multiple of 16).
//
//go:noescape
func softmaxPairsShiftAVX512(x, y *float32, n int)

// softmaxPairsScaleAVX512 sets y[i], y[i+1] = y[i]·s, y[i+1]·s with s = 1 /
// (y[i] + y[i+1]), for n floats (a multiple of 16).
//
//go:noescape
func softmaxPairsScaleAVX512(y *float32, n int)
