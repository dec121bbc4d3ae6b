package tfsegbeam

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"sort"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"

	"github.com/tfseg/tfseg/eval"
)

// Per-image rows are written by the workers that evaluate them, as they
// come: each bundle writes its rows of shard i to a part file of its own
// (a CSV part and a JSON Lines part) in TempDir, and emits the part's name
// when it finishes; after the evaluation, each shard's parts are
// concatenated into the shard's files, then removed. The rows never go
// through a GroupByKey, so no process holds a shard's rows (Prism sends a
// stage's whole input to its worker in one message: a GroupByKey of the
// rows made the writing worker hold all the dataset's rows, and the
// evaluating worker buffer up to 4 MB of them). As Beam's file sinks do,
// only the parts of committed bundles are used: a bundle that fails and is
// retried leaves parts no one names, which Cleanup removes.

// TempDir is the directory, under c.Out, of the run's part files.
func TempDir(c Config) string {
	return join(c.Out, fmt.Sprintf(".tfseg-beam-tmp-%d", c.StartUnixNano))
}

// shardOf is the shard of an image: a hash of its name.
func shardOf(name string, shards int) int {
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32() % uint32(shards))
}

// partName is the part of shard i written by bundle b, without its
// extension.
func partName(dir string, shard int, bundle string) string {
	return join(dir, fmt.Sprintf("rows-%05d-%s", shard, bundle))
}

// part is one bundle's open part files of one shard.
type part struct {
	base       string
	csv, jsonl io.WriteCloser
	bc, bj     *bufio.Writer
}

// partWriter writes a bundle's rows to its parts.
type partWriter struct {
	dir, bundle string
	shards      int
	parts       map[int]*part
}

func newPartWriter(dir string, shards int) (*partWriter, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	return &partWriter{dir: dir, bundle: hex.EncodeToString(b[:]), shards: shards, parts: map[int]*part{}}, nil
}

// write adds im to its shard's part, as tfseg eval's CSV writes it (no
// header line) and as a JSON Lines object.
func (w *partWriter) write(ctx context.Context, cols []eval.Column, im eval.ImageResult) error {
	s := shardOf(im.Name, w.shards)
	p := w.parts[s]
	if p == nil {
		p = &part{base: partName(w.dir, s, w.bundle)}
		var err error
		if p.csv, err = openWrite(ctx, p.base+".csv"); err != nil {
			return err
		}
		if p.jsonl, err = openWrite(ctx, p.base+".jsonl"); err != nil {
			p.csv.Close()
			return err
		}
		p.bc, p.bj = bufio.NewWriterSize(p.csv, 32<<10), bufio.NewWriterSize(p.jsonl, 32<<10)
		w.parts[s] = p
	}
	if err := writeCSVRow(p.bc, cols, im, false); err != nil {
		return fmt.Errorf("tfsegbeam: write %s.csv: %w", p.base, err)
	}
	if _, err := p.bj.Write(append(jsonRow(cols, im), '\n')); err != nil {
		return fmt.Errorf("tfsegbeam: write %s.jsonl: %w", p.base, err)
	}
	return nil
}

// close closes the parts and calls emit with each (shard, part name), by
// shard; with abort set it only closes them.
func (w *partWriter) close(abort bool, emit func(int, string)) error {
	shards := make([]int, 0, len(w.parts))
	for s := range w.parts {
		shards = append(shards, s)
	}
	sort.Ints(shards)
	var first error
	for _, s := range shards {
		p := w.parts[s]
		for _, f := range []struct {
			b  *bufio.Writer
			wc io.WriteCloser
			n  string
		}{{p.bc, p.csv, ".csv"}, {p.bj, p.jsonl, ".jsonl"}} {
			err := f.b.Flush()
			if cerr := f.wc.Close(); err == nil {
				err = cerr
			}
			if err != nil && first == nil {
				first = fmt.Errorf("tfsegbeam: write %s%s: %w", p.base, f.n, err)
			}
		}
		if !abort && first == nil {
			emit(s, p.base)
		}
	}
	w.parts = map[int]*part{}
	return first
}

// openWrite opens path for writing on its Beam filesystem.
func openWrite(ctx context.Context, path string) (io.WriteCloser, error) {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, err
	}
	wc, err := fs.OpenWrite(ctx, path)
	if err != nil {
		fs.Close()
		return nil, fmt.Errorf("tfsegbeam: write %s: %w", path, err)
	}
	return closeBoth{wc, fs}, nil
}

type closeBoth struct {
	io.WriteCloser
	fs io.Closer
}

func (c closeBoth) Close() error {
	err := c.WriteCloser.Close()
	c.fs.Close()
	return err
}

// appendFile copies the file at path to w.
func appendFile(ctx context.Context, w io.Writer, path string) error {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return err
	}
	defer fs.Close()
	r, err := fs.OpenRead(ctx, path)
	if err != nil {
		return fmt.Errorf("tfsegbeam: read %s: %w", path, err)
	}
	defer r.Close()
	if _, err := io.Copy(w, r); err != nil {
		return fmt.Errorf("tfsegbeam: copy %s: %w", path, err)
	}
	return nil
}

// removeFiles removes paths where their filesystem can remove files.
func removeFiles(ctx context.Context, paths ...string) error {
	for _, p := range paths {
		fs, err := filesystem.New(ctx, p)
		if err != nil {
			return err
		}
		if rm, ok := fs.(filesystem.Remover); ok {
			if err := rm.Remove(ctx, p); err != nil && !os.IsNotExist(err) {
				fs.Close()
				return fmt.Errorf("tfsegbeam: remove %s: %w", p, err)
			}
		}
		fs.Close()
	}
	return nil
}

// Cleanup removes the run's part files left in TempDir(c) (those of
// bundles that failed or were retried, or of a run that failed), and the
// directory itself on a local filesystem. The launcher calls it after the
// pipeline, whatever its outcome.
func Cleanup(ctx context.Context, c Config) error {
	dir := TempDir(c)
	fs, err := filesystem.New(ctx, dir)
	if err != nil {
		return err
	}
	files, err := fs.List(ctx, join(dir, "*"))
	fs.Close()
	if err != nil {
		return fmt.Errorf("tfsegbeam: list %s: %w", dir, err)
	}
	if err := removeFiles(ctx, files...); err != nil {
		return err
	}
	if !hasScheme(dir) {
		if err := os.Remove(dir); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("tfsegbeam: remove %s: %w", dir, err)
		}
	}
	return nil
}

// partsOf sorts a shard's part names (the order of the rows in the shard:
// by part, then as the bundle evaluated them).
func partsOf(parts func(*string) bool) []string {
	var l []string
	var p string
	for parts(&p) {
		l = append(l, p)
	}
	sort.Strings(l)
	return l
}
