//go:build !linux

package parallel

// osYield does nothing where sched_yield is not called.
func osYield() {}
