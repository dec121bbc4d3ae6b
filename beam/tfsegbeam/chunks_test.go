package tfsegbeam

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"

	"github.com/tfseg/tfseg/dataset"
)

// TestChunksRoundTrip writes 600 pairs through stagePairsFn (chunks of
// chunkPairs, the last one shorter, emitted by FinishBundle) and reads them
// back with readChunk in order; a chunk whose count or lines are wrong is
// an error naming the file.
func TestChunksRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := &stagePairsFn{TempDir: dir}
	var chunks []Chunk
	emit := func(c Chunk) { chunks = append(chunks, c) }
	must(t, f.StartBundle(ctx, emit))
	var want []dataset.Pair
	for i := range 600 {
		p := dataset.Pair{Name: "img_" + string(rune('a'+i%26)), Image: filepath.Join("in", "x,\"y\"", "a.png"), Mask: ""}
		if i%3 == 0 {
			p.Mask = "m.png"
		}
		want = append(want, p)
		must(t, f.ProcessElement(ctx, p, emit))
	}
	must(t, f.FinishBundle(ctx, emit))
	if len(chunks) != 3 || chunks[0].N != chunkPairs || chunks[1].N != chunkPairs || chunks[2].N != 600-2*chunkPairs {
		t.Fatalf("chunks %+v, want three of %d, %d and %d pairs", chunks, chunkPairs, chunkPairs, 600-2*chunkPairs)
	}
	var got []dataset.Pair
	for _, c := range chunks {
		ps, err := readChunk(ctx, c)
		must(t, err)
		got = append(got, ps...)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("read back %d pairs differing from the %d written", len(got), len(want))
	}

	_, err := readChunk(ctx, Chunk{Path: chunks[2].Path, N: chunks[2].N + 1})
	if err == nil || !strings.Contains(err.Error(), "holds 88 pairs, want 89") {
		t.Errorf("a chunk with a wrong count: %v", err)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	must(t, os.WriteFile(bad, []byte("{\"Name\":\"a\"}\nnot json\n"), 0o644))
	_, err = readChunk(ctx, Chunk{Path: bad, N: 2})
	if err == nil || !strings.Contains(err.Error(), "bad.jsonl, line 2") {
		t.Errorf("a chunk with a bad line: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
