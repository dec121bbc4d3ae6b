package main

import (
	"os"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func initHarness() { beam.Init() }

// recordPeakRSS writes this process's peak resident set size (VmHWM, from
// /proc/self/status) to path every second, for the scale measurement.
func recordPeakRSS(path string) {
	for {
		if b, err := os.ReadFile("/proc/self/status"); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(line, "VmHWM:") {
					_ = os.WriteFile(path, []byte(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))+"\n"), 0o644)
				}
			}
		}
		time.Sleep(time.Second)
	}
}
