package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/tfseg/tfseg/internal/procmem"
)

func initHarness() { beam.Init() }

// recordPeakRSS writes this process's peak resident set size (VmHWM, from
// /proc/self/status), the largest Go heap (HeapAlloc: live data and garbage
// not yet collected) and the largest live heap (runtime/metrics'
// /gc/heap/live:bytes, what the last garbage collection kept) to path every
// 100 ms, for the scale measurement. With TFSEG_BEAM_WORKER_SERIES set, one
// line per 100 ms is appended there: seconds since start, VmRSS kB,
// HeapAlloc, live heap, heap in use, goroutine stacks (MiB) and the number
// of collections. With TFSEG_BEAM_WORKER_HEAPPROF set, a heap profile is
// written there at each new peak, and to PROF.T every 10 s (T: seconds
// since start), with heap samples every 64 KiB allocated. It returns at
// once, the recording runs in a goroutine.
func recordPeakRSS(path string) {
	prof := os.Getenv("TFSEG_BEAM_WORKER_HEAPPROF")
	if prof != "" {
		runtime.MemProfileRate = 64 << 10
	}
	go record(path, prof)
}

func record(path, prof string) {
	var series *os.File
	if s := os.Getenv("TFSEG_BEAM_WORKER_SERIES"); s != "" {
		series, _ = os.Create(s)
	}
	start := time.Now()
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var last int64
	var maxAlloc, maxLive uint64
	for i := 0; ; i++ {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		metrics.Read(live)
		l := live[0].Value.Uint64()
		maxAlloc, maxLive = max(maxAlloc, ms.HeapAlloc), max(maxLive, l)
		m, _ := procmem.Read() // zeros where there is no /proc/self/status
		rss, hwm := m.RSS, m.HWM
		if series != nil {
			fmt.Fprintf(series, "%.1f %d %.1f %.1f %.1f %.1f %d\n", time.Since(start).Seconds(), rss,
				float64(ms.HeapAlloc)/(1<<20), float64(l)/(1<<20), float64(ms.HeapInuse)/(1<<20), float64(ms.StackInuse)/(1<<20), ms.NumGC)
		}
		if hwm > 0 {
			// Written then renamed: the runner may kill this process at any time.
			line := fmt.Sprintf("%d kB heap_alloc_max_MiB %d heap_live_max_MiB %d heap_sys_MiB %d num_gc %d\n", hwm, maxAlloc>>20, maxLive>>20, ms.HeapSys>>20, ms.NumGC)
			if os.WriteFile(path+".tmp", []byte(line), 0o644) == nil {
				_ = os.Rename(path+".tmp", path)
			}
			if prof != "" && hwm > last+4096 {
				last = hwm
				writeHeapProfile(prof)
			}
		}
		if prof != "" && i > 0 && i%100 == 0 {
			writeHeapProfile(fmt.Sprintf("%s.%d", prof, i/10))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func writeHeapProfile(path string) {
	if f, err := os.Create(path); err == nil {
		_ = pprof.WriteHeapProfile(f)
		f.Close()
	}
}
