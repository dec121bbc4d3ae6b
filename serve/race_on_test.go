//go:build race

package serve

// raceEnabled: the race detector slows each U-Net run about tenfold, so
// the load test sends fewer requests (it still checks every answer).
const raceEnabled = true
