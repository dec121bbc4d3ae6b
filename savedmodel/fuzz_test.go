package savedmodel

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tfseg/tfseg/tfops"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// fuzzMaxBytes keeps the fuzzers' allocations small.
const fuzzMaxBytes = 1 << 20

// FuzzSavedModelPB parses saved_model.pb bytes, selects the MetaGraphDef of
// every tag set and converts its signatures, and checks that name-encoded
// signatures survive a round trip through SignatureDef.
func FuzzSavedModelPB(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		sm, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("Parse error does not wrap ErrFormat: %v", err)
			}
			return
		}
		for _, tags := range TagSets(sm) {
			m, err := newSavedModel(sm, tags)
			if err != nil {
				if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTags) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				continue
			}
			for _, key := range m.SignatureKeys() {
				s, err := m.Signature(key)
				if err != nil {
					t.Fatal(err)
				}
				sd, err := s.Proto()
				if err != nil {
					continue // composite tensors are read, not written
				}
				s2, err := SignatureFromProto(key, sd)
				if err != nil {
					t.Fatalf("signature %q does not survive a round trip: %v", key, err)
				}
				if fmt.Sprint(s) != fmt.Sprint(s2) {
					t.Fatalf("signature %q changed in a round trip:\n%v\n%v", key, s, s2)
				}
			}
			_ = m.Graph()
			_ = m.SaverDef()
		}
	})
}

// FuzzBundleIndex parses variables.index bytes and every entry in them,
// and the same bytes as one table block.
func FuzzBundleIndex(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Checksums stop most mutations at the block trailer; parse the
		// bytes as block contents too, so that the block decoder is fuzzed.
		if entries, err := parseBlock(data); err == nil {
			for _, e := range entries {
				if len(e.key) > len(data) || len(e.value) > len(data) {
					t.Fatalf("entry larger than its block")
				}
			}
		}
		b, err := parseBundleIndex("fuzz.index", data)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		for _, k := range b.Keys() {
			e, err := b.Entry(k)
			if err != nil {
				continue
			}
			_, _, _ = checkEntry(e, fuzzMaxBytes)
		}
	})
}

// FuzzBundleEntry decodes one BundleEntryProto and reads its tensor from
// data, a data shard.
func FuzzBundleEntry(f *testing.F) {
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, entry, data []byte) {
		e, err := parseBundleEntry("fuzz.index", "k", entry, 1)
		if err != nil {
			return
		}
		dtype, dims, err := checkEntry(e, fuzzMaxBytes)
		if err != nil {
			return
		}
		tt, err := readTensor(bytes.NewReader(data), int64(len(data)), "fuzz.data", "k", e, dtype, dims)
		if err != nil {
			return
		}
		if tt.DType() != dtype || tt.NumElements() != tfops.NumElements(dims) {
			t.Fatalf("decoded %v%v from an entry of %v%v", tt.DType(), tt.Shape(), dtype, dims)
		}
		// What decodes must survive a write and a read.
		idx, enc, err := encodeBundle(map[string]*tfops.Tensor{"k": tt})
		if err != nil {
			t.Fatal(err)
		}
		b, err := parseBundleIndex("re.index", idx)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := b.Entry("k")
		if err != nil {
			t.Fatal(err)
		}
		t2, err := readTensor(bytes.NewReader(enc), int64(len(enc)), "re.data", "k", e2, dtype, dims)
		if err != nil {
			t.Fatal(err)
		}
		if tt.DType() == tfops.String {
			if fmt.Sprintf("%q", tt.Strings()) != fmt.Sprintf("%q", t2.Strings()) {
				t.Fatalf("strings changed in a round trip")
			}
		} else if !bytes.Equal(tfops.EncodeContent(tt), tfops.EncodeContent(t2)) {
			t.Fatalf("values changed in a round trip")
		}
	})
}

// TestWriteFuzzSeeds regenerates the seed corpora in testdata/fuzz from the
// fixtures written by real TensorFlow. It runs only with
// SAVEDMODEL_WRITE_SEEDS=1: go test -run TestWriteFuzzSeeds ./savedmodel.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SAVEDMODEL_WRITE_SEEDS") != "1" {
		t.Skip("set SAVEDMODEL_WRITE_SEEDS=1 to regenerate testdata/fuzz")
	}
	seed := func(name, file string, args ...[]byte) {
		dir := filepath.Join("testdata", "fuzz", name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		s := "go test fuzz v1\n"
		for _, a := range args {
			s += "[]byte(" + strconv.Quote(string(a)) + ")\n"
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, file), []byte(s), 0o644))
	}
	// SavedModels: each fixture's MetaGraphDef without its (large) graph
	// and object graph: tags, signatures, saver, collections.
	for _, name := range []string{"half-plus-two-tf1", "half-plus-two-tf2", "keras-unet-circles", "tf-module-vars"} {
		m, err := Read(fixture(t, name), ReadOptions{})
		require.NoError(t, err)
		mg := proto.Clone(m.MetaGraph).(*pb.MetaGraphDef)
		mg.GraphDef, mg.ObjectGraphDef = nil, nil
		mg.MetaInfoDef.StrippedOpList = nil
		delete(mg.CollectionDef, "variables")
		delete(mg.CollectionDef, "trainable_variables")
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&pb.SavedModel{SavedModelSchemaVersion: 1, MetaGraphs: []*pb.MetaGraphDef{mg}})
		require.NoError(t, err)
		seed("FuzzSavedModelPB", name, b)
	}
	// Our own export of a small graph with variables.
	gd, sigs := halfPlusTwo(t)
	dir := filepath.Join(t.TempDir(), "m")
	require.NoError(t, Write(dir, &Export{Graph: gd, Signatures: sigs,
		Variables: map[string]*tfops.Tensor{"a": tfops.FromScalar(float32(0.5)), "b": tfops.FromScalar(float32(2))}}))
	b, err := os.ReadFile(filepath.Join(dir, ModelFilename))
	require.NoError(t, err)
	seed("FuzzSavedModelPB", "export-half-plus-two", b)

	// Index files (half-plus-two-tf1's blocks are snappy-compressed) and
	// entries with their data.
	for _, name := range []string{"half-plus-two-tf1", "tf-module-vars", "tf-regression-train"} {
		prefix := filepath.Join(fixture(t, name), VariablesDirectory, VariablesFilename)
		index, err := os.ReadFile(IndexFilename(prefix))
		require.NoError(t, err)
		seed("FuzzBundleIndex", name, index)
		data, err := os.ReadFile(DataFilename(prefix, 0, 1))
		require.NoError(t, err)
		bu, err := parseBundleIndex(name, index)
		require.NoError(t, err)
		for i, k := range bu.Keys() {
			if i > 1 {
				break
			}
			seed("FuzzBundleEntry", fmt.Sprintf("%s-%d", name, i), bu.raw[k], data)
		}
	}
	index, data, err := encodeBundle(map[string]*tfops.Tensor{
		"s": tfops.MustFromSlice([]string{"ab", "", "cde"}, 3),
		"i": tfops.MustFromSlice([]int32{1, -1}, 2, 1),
	})
	require.NoError(t, err)
	seed("FuzzBundleIndex", "written", index)
	blk := newBlockBuilder(2)
	for _, k := range []string{"", "layer/bias", "layer/kernel", "layer/kernel/m"} {
		blk.add([]byte(k), []byte("v:"+k))
	}
	seed("FuzzBundleIndex", "block", blk.finish())
	bu, err := parseBundleIndex("written", index)
	require.NoError(t, err)
	for _, k := range bu.Keys() {
		seed("FuzzBundleEntry", "written-"+k, bu.raw[k], data)
	}
}
