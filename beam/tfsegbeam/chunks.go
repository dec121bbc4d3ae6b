package tfsegbeam

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tfseg/tfseg/dataset"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*stagePairsFn)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*Chunk)(nil)).Elem())
}

// The pairs reach the evaluation through files, not as elements: the
// pairing stage writes them in chunks of chunkPairs to files in TempDir
// and emits one Chunk per file; a Reshuffle spreads the chunks over the
// workers, and the evaluation reads each chunk's file. Prism sends a
// stage's whole input to its worker in one message, kept until the bundle
// ends: with the pairs themselves as the evaluation's input, the
// evaluating worker held every file name of the dataset (4.4 MB at 20,000
// images) next to its engine buffers, and its peak memory grew with the
// dataset. With chunks, its input is one small element per chunkPairs
// images, and it holds one chunk's pairs at a time.

// chunkPairs is how many pairs a chunk file holds (the last of a bundle
// fewer).
const chunkPairs = 256

// Chunk names a file of pairs written by the pairing stage: JSON Lines,
// one dataset.Pair per line, N of them.
type Chunk struct {
	Path string
	N    int
}

// stagePairsFn writes the pairs of a bundle to chunk files in TempDir and
// emits a Chunk for each file once it is complete.
type stagePairsFn struct {
	TempDir string

	bundle string
	seq    int
	w      io.WriteCloser
	bw     *bufio.Writer
	path   string
	n      int
}

func (f *stagePairsFn) StartBundle(_ context.Context, _ func(Chunk)) error {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	f.bundle, f.seq = hex.EncodeToString(b[:]), 0
	f.abort()
	return nil
}

func (f *stagePairsFn) ProcessElement(ctx context.Context, p dataset.Pair, emit func(Chunk)) error {
	if f.w == nil {
		f.path = join(f.TempDir, fmt.Sprintf("pairs-%s-%05d.jsonl", f.bundle, f.seq))
		f.seq++
		w, err := openWrite(ctx, f.path)
		if err != nil {
			return err
		}
		f.w, f.bw, f.n = w, bufio.NewWriter(w), 0
	}
	line, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if _, err := f.bw.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("tfsegbeam: write %s: %w", f.path, err)
	}
	if f.n++; f.n >= chunkPairs {
		return f.flush(emit)
	}
	return nil
}

func (f *stagePairsFn) FinishBundle(_ context.Context, emit func(Chunk)) error {
	if f.w == nil {
		return nil
	}
	return f.flush(emit)
}

// flush closes the open chunk file and emits it.
func (f *stagePairsFn) flush(emit func(Chunk)) error {
	err := f.bw.Flush()
	if cerr := f.w.Close(); err == nil {
		err = cerr
	}
	f.w, f.bw = nil, nil
	if err != nil {
		return fmt.Errorf("tfsegbeam: write %s: %w", f.path, err)
	}
	emit(Chunk{Path: f.path, N: f.n})
	return nil
}

// abort drops a chunk file left open by a bundle that failed (its file is
// named by no Chunk; Cleanup removes it with the run's other temporary
// files).
func (f *stagePairsFn) abort() {
	if f.w != nil {
		_ = f.w.Close()
		f.w, f.bw = nil, nil
	}
}

// readChunk reads the pairs of a chunk file.
func readChunk(ctx context.Context, c Chunk) ([]dataset.Pair, error) {
	data, err := readFile(ctx, c.Path)
	if err != nil {
		return nil, err
	}
	pairs := make([]dataset.Pair, 0, c.N)
	for line := range bytes.Lines(data) {
		var p dataset.Pair
		if err := json.Unmarshal(line, &p); err != nil {
			return nil, fmt.Errorf("tfsegbeam: chunk %s, line %d: %w", c.Path, len(pairs)+1, err)
		}
		pairs = append(pairs, p)
	}
	if len(pairs) != c.N {
		return nil, fmt.Errorf("tfsegbeam: chunk %s holds %d pairs, want %d", c.Path, len(pairs), c.N)
	}
	return pairs, nil
}
