package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func initHarness() { beam.Init() }

// recordPeakRSS writes this process's peak resident set size (VmHWM, from
// /proc/self/status) to path every second, for the scale measurement;
// with TFSEG_BEAM_WORKER_HEAPPROF set, a heap profile is written there at
// each new peak.
func recordPeakRSS(path string) {
	prof := os.Getenv("TFSEG_BEAM_WORKER_HEAPPROF")
	last := 0
	var maxLive uint64
	for {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		maxLive = max(maxLive, ms.HeapAlloc)
		if b, err := os.ReadFile("/proc/self/status"); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if !strings.HasPrefix(line, "VmHWM:") {
					continue
				}
				v := strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
				// Written then renamed: the runner may kill this process at any time.
				if os.WriteFile(path+".tmp", []byte(fmt.Sprintf("%s heap_alloc_max_MiB %d heap_sys_MiB %d num_gc %d\n", v, maxLive>>20, ms.HeapSys>>20, ms.NumGC)), 0o644) == nil {
					_ = os.Rename(path+".tmp", path)
				}
				kb, _ := strconv.Atoi(strings.Fields(v)[0])
				if prof != "" && kb > last+4096 {
					last = kb
					if f, err := os.Create(prof); err == nil {
						_ = pprof.WriteHeapProfile(f)
						f.Close()
					}
				}
			}
		}
		time.Sleep(time.Second)
	}
}
