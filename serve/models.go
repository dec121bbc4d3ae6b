package serve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/tfseg/tfseg"
	"github.com/tfseg/tfseg/eval"
	"github.com/tfseg/tfseg/savedmodel"
)

// Version states, as ModelVersionStatus.State of
// tensorflow_serving/apis/get_model_status.proto names them.
const (
	stateLoading   = "LOADING"
	stateAvailable = "AVAILABLE"
	stateUnloading = "UNLOADING"
	stateEnd       = "END"
)

// servable is one loaded version of a model.
type servable struct {
	name    string
	version int64
	dir     string
	model   *tfseg.Model
	// sigs holds every SignatureDef of the MetaGraphDef, the init op's
	// included, for the metadata API.
	sigs map[string]savedmodel.Signature

	inflight sync.WaitGroup

	mu       sync.Mutex
	batchers map[string]*batcher
	evals    map[string]*eval.Model
}

// versionStatus is one version's entry in the status API.
type versionStatus struct {
	state   string
	errCode code
	errMsg  string
	// stamp identifies the directory's content a failed load saw, so a
	// version is retried only when its files change.
	stamp string
}

// model is a configured model: its versions on disk, loaded and failed.
type model struct {
	cfg ModelConfig

	mu       sync.RWMutex
	serving  map[int64]*servable
	statuses map[int64]*versionStatus
	loadMu   sync.Mutex // one poll at a time
}

// latest returns the newest serving version, with a reference taken.
func (m *model) acquire(version int64, label string, hasVersion bool) (*servable, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if label != "" {
		v, ok := m.cfg.Labels[label]
		if !ok {
			return nil, invalidArgf("Unrecognized servable version label: %s", label)
		}
		version, hasVersion = v, true
	}
	var s *servable
	if hasVersion {
		s = m.serving[version]
		if s == nil {
			return nil, notFoundf("Servable not found for request: Specific(%s, %d)", m.cfg.Name, version)
		}
	} else {
		for v, c := range m.serving {
			if s == nil || v > s.version {
				s = c
			}
		}
		if s == nil {
			return nil, notFoundf("Servable not found for request: Latest(%s)", m.cfg.Name)
		}
	}
	s.inflight.Add(1)
	return s, nil
}

func (s *servable) release() { s.inflight.Done() }

// versionsOnDisk lists the numbered subdirectories of the base path, as
// TensorFlow Serving's FileSystemStoragePathSource does (names that parse as
// non-negative integers; anything else is ignored).
func versionsOnDisk(base string) ([]int64, error) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, e := range entries {
		if !e.IsDir() {
			// A symbolic link to a directory counts (a common way to
			// publish a version).
			fi, err := os.Stat(filepath.Join(base, e.Name()))
			if err != nil || !fi.IsDir() {
				continue
			}
		}
		v, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || v < 0 {
			continue
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// dirStamp summarises a version directory's files (names, sizes, times).
func dirStamp(dir string) string {
	var b []byte
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil {
			b = fmt.Appendf(b, "%s %d %d;", path, info.Size(), info.ModTime().UnixNano())
		}
		return nil
	})
	return string(b)
}

// loadVersion loads one version directory.
func (srv *Server) loadVersion(name string, version int64, dir string) (*servable, error) {
	opts := []tfseg.Option{tfseg.WithEngine(srv.opts.Engine), tfseg.WithLimits(srv.opts.Limits)}
	if srv.opts.Threads > 0 {
		opts = append(opts, tfseg.WithThreads(srv.opts.Threads))
	}
	m, err := tfseg.Load(dir, opts...)
	if err != nil {
		return nil, err
	}
	sm, err := savedmodel.Read(dir, savedmodel.ReadOptions{})
	if err != nil {
		m.Close()
		return nil, err
	}
	if len(m.Signatures()) == 0 {
		m.Close()
		return nil, fmt.Errorf("%s: the SavedModel has no callable signature", dir)
	}
	return &servable{name: name, version: version, dir: dir, model: m, sigs: sm.Signatures(),
		batchers: map[string]*batcher{}, evals: map[string]*eval.Model{}}, nil
}

// close drains the servable's requests, then releases it.
func (s *servable) close() {
	s.inflight.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.batchers {
		b.close()
	}
	for _, e := range s.evals {
		e.Close()
	}
	s.model.Close()
}

func loadErrorCode(err error) code {
	if errors.Is(err, fs.ErrNotExist) {
		return codeNotFound
	}
	return codeUnknown
}

// poll brings a model's served versions in line with its base path: new
// aspired versions are loaded (the versions already served keep serving
// meanwhile), then versions no longer aspired are taken out of service,
// drained and closed. A version that fails to load is marked END with its
// error and is not retried until its files change; the versions being
// served are not touched.
func (srv *Server) poll(m *model) {
	m.loadMu.Lock()
	defer m.loadMu.Unlock()
	onDisk, err := versionsOnDisk(m.cfg.BasePath)
	if err != nil {
		srv.logf("model %s: listing %s: %v", m.cfg.Name, m.cfg.BasePath, err)
		return
	}
	aspired := m.cfg.Policy.aspired(onDisk)
	want := map[int64]bool{}
	for _, v := range aspired {
		want[v] = true
	}
	loadedAny := false
	for _, v := range aspired {
		m.mu.RLock()
		_, serving := m.serving[v]
		st := m.statuses[v]
		m.mu.RUnlock()
		if serving {
			continue
		}
		dir := filepath.Join(m.cfg.BasePath, strconv.FormatInt(v, 10))
		stamp := dirStamp(dir)
		if st != nil && st.state == stateEnd && st.errMsg != "" && st.stamp == stamp {
			continue // failed before, unchanged since
		}
		m.mu.Lock()
		m.statuses[v] = &versionStatus{state: stateLoading}
		m.mu.Unlock()
		start := time.Now()
		s, err := srv.loadVersion(m.cfg.Name, v, dir)
		m.mu.Lock()
		if err != nil {
			m.statuses[v] = &versionStatus{state: stateEnd, errCode: loadErrorCode(err), errMsg: err.Error(), stamp: stamp}
			m.mu.Unlock()
			srv.metrics.loadFailures.WithLabelValues(m.cfg.Name).Inc()
			srv.logf("model %s: version %d failed to load (still serving %v): %v", m.cfg.Name, v, servingVersions(m), err)
			continue
		}
		m.serving[v] = s
		m.statuses[v] = &versionStatus{state: stateAvailable}
		m.mu.Unlock()
		loadedAny = true
		srv.logf("model %s: version %d available (loaded in %v)", m.cfg.Name, v, time.Since(start).Round(time.Millisecond))
	}
	// Unload what is no longer aspired, but never leave the model with
	// nothing to serve: with the latest policy the newest available version
	// stays until a newer one is available (TensorFlow Serving's
	// AvailabilityPreservingPolicy).
	m.mu.Lock()
	var newestAspired int64 = -1
	for v := range m.serving {
		if want[v] && v > newestAspired {
			newestAspired = v
		}
	}
	var drop []*servable
	for v, s := range m.serving {
		if want[v] {
			continue
		}
		if newestAspired < 0 && !m.cfg.Policy.All && len(m.cfg.Policy.Specific) == 0 && v == newestServing(m) {
			continue
		}
		delete(m.serving, v)
		m.statuses[v] = &versionStatus{state: stateUnloading}
		drop = append(drop, s)
	}
	m.mu.Unlock()
	for _, s := range drop {
		s.close()
		m.mu.Lock()
		m.statuses[s.version] = &versionStatus{state: stateEnd}
		m.mu.Unlock()
		srv.logf("model %s: version %d unloaded", m.cfg.Name, s.version)
	}
	if loadedAny || len(drop) > 0 {
		srv.metrics.setVersions(m)
	}
}

func newestServing(m *model) int64 {
	var best int64 = -1
	for v := range m.serving {
		best = max(best, v)
	}
	return best
}

func servingVersions(m *model) []int64 {
	var out []int64
	for v := range m.serving {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// pollLoop polls every model until ctx ends.
func (srv *Server) pollLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, m := range srv.models {
				srv.poll(m)
			}
		}
	}
}
