package tfsegbeam

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/tfseg/tfseg/dataset"
	"github.com/tfseg/tfseg/eval"
)

// Outcome is one image's result: a row of tfseg eval's CSV (Reason empty)
// or a dead letter (Reason says why the image could not be evaluated).
type Outcome struct {
	Name, Image, Mask string
	Height, Width     int
	Cropped           bool
	// Values holds one number per column of the Header.
	Values []float64
	// Crop is the crop ("100x100 -> 60x60") of a cropped mask.
	Crop string
	// Slice is the image's slice ("" without --slice-by).
	Slice string
	// Reason is the error of an image that could not be evaluated.
	Reason string
}

// Note is a file of the dataset that is not evaluated: a mask without an
// image (Kind "mask") or a file of another type (Kind "ignored").
type Note struct {
	Kind, Path string
}

// Header says what the values are: written by the workers once they know
// the model's output, read by the writers as a side input.
type Header struct {
	Model   eval.ModelInfo
	Classes int
	Columns []eval.Column
	Notes   []string
}

func init() {
	beam.RegisterType(reflect.TypeOf((*Outcome)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Note)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Header)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*dataset.Pair)(nil)).Elem())
}

// readFile reads a whole file from its Beam filesystem.
func readFile(ctx context.Context, path string) ([]byte, error) {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	r, err := fs.OpenRead(ctx, path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// writeFile writes a file on its Beam filesystem through w.
func writeFile(ctx context.Context, path string, w func(io.Writer) error) error {
	f, err := openWrite(ctx, path)
	if err != nil {
		return err
	}
	if err := w(f); err != nil {
		f.Close()
		return fmt.Errorf("tfsegbeam: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("tfsegbeam: write %s: %w", path, err)
	}
	return nil
}

func hasScheme(p string) bool { return strings.Contains(p, "://") }

// localModel returns a local directory holding the SavedModel dir: dir
// itself when local, else a copy of its saved_model.pb, variables/ and
// assets/ in a temporary directory.
func localModel(ctx context.Context, dir string) (string, error) {
	if !hasScheme(dir) {
		return dir, nil
	}
	tmp, err := os.MkdirTemp("", "tfseg-beam-model-")
	if err != nil {
		return "", err
	}
	dir = strings.TrimRight(dir, "/")
	fs, err := filesystem.New(ctx, dir)
	if err != nil {
		return "", err
	}
	defer fs.Close()
	for _, sub := range []string{"", "variables/", "assets/"} {
		files, err := fs.List(ctx, dir+"/"+sub+"*")
		if err != nil {
			return "", fmt.Errorf("tfsegbeam: model %s: %w", dir, err)
		}
		for _, f := range files {
			name := strings.TrimPrefix(f, dir+"/")
			if strings.Contains(name, "/") && !strings.HasPrefix(name, sub) || strings.HasSuffix(name, "/") {
				continue
			}
			data, err := readFile(ctx, f)
			if err != nil {
				return "", fmt.Errorf("tfsegbeam: model %s: %w", f, err)
			}
			local := filepath.Join(tmp, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
				return "", err
			}
			if err := os.WriteFile(local, data, 0o644); err != nil {
				return "", err
			}
		}
	}
	return tmp, nil
}

// models holds the models loaded in this process, by configuration: a
// worker loads a model once, whatever the number of DoFn instances.
var models struct {
	sync.Mutex
	m map[string]*loaded
}

type loaded struct {
	once  sync.Once
	model *eval.Model
	err   error
}

func loadModel(ctx context.Context, c Config) (*eval.Model, error) {
	lo, err := c.loadOptions()
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%q %q %q %q %q", c.Model, c.Signature, c.Input, c.Output, c.FromLogits)
	models.Lock()
	if models.m == nil {
		models.m = map[string]*loaded{}
	}
	l := models.m[key]
	if l == nil {
		l = &loaded{}
		models.m[key] = l
	}
	models.Unlock()
	l.once.Do(func() {
		dir, err := localModel(ctx, c.Model)
		if err != nil {
			l.err = err
			return
		}
		l.model, l.err = eval.Load(dir, lo)
		if l.err == nil {
			l.model.Dir = c.Model
		}
	})
	return l.model, l.err
}

// evaluators holds the evaluators of this process, by configuration:
// Config.Workers of them, shared by all the DoFn instances that run
// bundles at once in the process. A runner may run several bundles of the
// evaluation at once in one worker (Prism splits a bundle whose progress
// stalls, and runs the rest as a new bundle, on a new DoFn instance):
// with evaluators per instance, each split added Workers evaluators (their
// measures, engine sessions and pooled buffers) and Workers batches in
// flight, so the worker's memory grew with the number of splits, that is
// with the run's length. Shared, Workers batches are evaluated at once per
// process, however many bundles run.
var evaluators struct {
	sync.Mutex
	m map[string]*evalPool
}

type evalPool struct {
	free  chan *eval.Evaluator
	all   []*eval.Evaluator
	users int
}

func poolKey(c Config) string { return fmt.Sprintf("%#v", c.withDefaults()) }

// acquireEvaluators returns the process's evaluators for c (making them
// the first time); releaseEvaluators closes them after the last user.
func acquireEvaluators(m *eval.Model, c Config, opts eval.Options) (*evalPool, error) {
	key := poolKey(c)
	evaluators.Lock()
	defer evaluators.Unlock()
	if evaluators.m == nil {
		evaluators.m = map[string]*evalPool{}
	}
	p := evaluators.m[key]
	if p == nil {
		n := c.withDefaults().Workers
		p = &evalPool{free: make(chan *eval.Evaluator, n)}
		for range n {
			ev, err := eval.NewEvaluator(m, opts)
			if err != nil {
				for _, e := range p.all {
					e.Close()
				}
				return nil, err
			}
			p.all = append(p.all, ev)
			p.free <- ev
		}
		evaluators.m[key] = p
	}
	p.users++
	return p, nil
}

func releaseEvaluators(c Config) {
	key := poolKey(c)
	evaluators.Lock()
	defer evaluators.Unlock()
	p := evaluators.m[key]
	if p == nil {
		return
	}
	if p.users--; p.users == 0 {
		for _, ev := range p.all {
			ev.Close()
		}
		delete(evaluators.m, key)
	}
}

// slicer names an image's slice.
type slicer struct {
	spec *slicerSpec
	meta map[string]string // image file name (and stem) -> slice
}

const noSlice = "(none)"

func newSlicer(ctx context.Context, c Config) (*slicer, error) {
	spec, err := newSlicerSpec(c)
	if err != nil || spec == nil {
		return nil, err
	}
	s := &slicer{spec: spec}
	if spec.re != nil {
		return s, nil
	}
	data, err := readFile(ctx, c.Metadata)
	if err != nil {
		return nil, fmt.Errorf("tfsegbeam: metadata %s: %w", c.Metadata, err)
	}
	recs, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("tfsegbeam: metadata %s: %w", c.Metadata, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("tfsegbeam: metadata %s is empty", c.Metadata)
	}
	key, col := -1, -1
	for i, h := range recs[0] {
		switch strings.TrimSpace(h) {
		case c.withDefaults().MetadataKey:
			key = i
		case spec.column:
			col = i
		}
	}
	if key < 0 || col < 0 {
		return nil, fmt.Errorf("tfsegbeam: metadata %s has no column %q or %q (columns %v)", c.Metadata, c.withDefaults().MetadataKey, spec.column, recs[0])
	}
	s.meta = map[string]string{}
	for _, r := range recs[1:] {
		name := filepath.Base(filepath.ToSlash(r[key]))
		s.meta[name] = r[col]
		s.meta[strings.TrimSuffix(name, filepath.Ext(name))] = r[col]
	}
	return s, nil
}

func (s *slicer) slice(p dataset.Pair) string {
	if s == nil {
		return ""
	}
	if s.spec.re != nil {
		if m := s.spec.re.FindStringSubmatch(p.Image); m != nil {
			return m[1]
		}
		return noSlice
	}
	base := p.Image[strings.LastIndexAny(p.Image, `/\`)+1:]
	if v, ok := s.meta[base]; ok {
		return v
	}
	if v, ok := s.meta[p.Name]; ok {
		return v
	}
	return noSlice
}
