package savedmodel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"sync"

	"github.com/tfseg/tfseg/tfops"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// Version of the tensor_bundle format this package reads and writes
// (kTensorBundleVersion in tensor_bundle.cc).
const bundleVersion = 1

// maxIndexFileBytes bounds the variables.index file read into memory.
const maxIndexFileBytes = 1 << 30

// BundleOptions configures OpenBundle. The zero value is ready to use.
type BundleOptions struct {
	// MaxTensorBytes bounds the bytes one tensor may claim (its size field,
	// and its element count times the element size); larger tensors are
	// refused with ErrTooBig before anything is allocated. Zero means
	// tfops.DefaultMaxTensorBytes.
	MaxTensorBytes int64
}

// Bundle is an open tensor bundle (a TensorFlow V2 checkpoint): the index
// table, parsed and checksum-verified when opened, and the data shards,
// opened on first use. A Bundle is safe for concurrent use; Close it when done.
type Bundle struct {
	prefix    string
	indexName string
	header    *pb.BundleHeaderProto
	keys      []string
	raw       map[string][]byte
	maxBytes  int64

	mu     sync.Mutex
	shards map[int32]*os.File
	closed bool
}

// IndexFilename returns the index file of the bundle at prefix ("prefix.index").
func IndexFilename(prefix string) string { return prefix + ".index" }

// DataFilename returns data shard shard of numShards of the bundle at prefix
// ("prefix.data-00000-of-00001").
func DataFilename(prefix string, shard, numShards int) string {
	return fmt.Sprintf("%s.data-%05d-of-%05d", prefix, shard, numShards)
}

// OpenBundle opens the tensor bundle whose files start with prefix (for a
// SavedModel, "<dir>/variables/variables"). It reads prefix.index, verifies
// the CRC32C of every block, checks that keys are sorted and unique, and
// parses the header entry (key ""): its version must be readable, and the
// byte order little-endian.
func OpenBundle(prefix string, opts BundleOptions) (*Bundle, error) {
	name := IndexFilename(prefix)
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("savedmodel: open bundle: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("savedmodel: open bundle: %w", err)
	}
	if st.Size() > maxIndexFileBytes {
		return nil, fmt.Errorf("%w: %s: index file of %d bytes exceeds %d", ErrTooBig, name, st.Size(), maxIndexFileBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxIndexFileBytes))
	if err != nil {
		return nil, fmt.Errorf("savedmodel: read %s: %w", name, err)
	}
	b, err := parseBundleIndex(name, data)
	if err != nil {
		return nil, err
	}
	b.prefix = prefix
	b.maxBytes = opts.MaxTensorBytes
	if b.maxBytes <= 0 {
		b.maxBytes = tfops.DefaultMaxTensorBytes
	}
	return b, nil
}

// parseBundleIndex parses the bytes of an index file named name.
func parseBundleIndex(name string, data []byte) (*Bundle, error) {
	entries, err := parseTable(name, data)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 || len(entries[0].key) != 0 {
		return nil, fmt.Errorf("%w: %s: no header entry (empty key) in the index", ErrFormat, name)
	}
	h := &pb.BundleHeaderProto{}
	if err := proto.Unmarshal(entries[0].value, h); err != nil {
		return nil, fmt.Errorf("%w: %s: header entry: %w", ErrFormat, name, err)
	}
	if h.GetNumShards() < 1 {
		return nil, fmt.Errorf("%w: %s: header says %d shards", ErrFormat, name, h.GetNumShards())
	}
	if h.GetEndianness() != pb.BundleHeaderProto_LITTLE {
		return nil, fmt.Errorf("%w: %s: %v-endian bundle", ErrUnsupported, name, h.GetEndianness())
	}
	if v := h.GetVersion(); v != nil {
		if v.GetMinConsumer() > bundleVersion {
			return nil, fmt.Errorf("%w: %s: bundle needs a reader of version >= %d, this is %d",
				ErrUnsupported, name, v.GetMinConsumer(), bundleVersion)
		}
		for _, bad := range v.GetBadConsumers() {
			if bad == bundleVersion {
				return nil, fmt.Errorf("%w: %s: bundle disallows reader version %d", ErrUnsupported, name, bundleVersion)
			}
		}
	}
	b := &Bundle{indexName: name, header: h, raw: make(map[string][]byte, len(entries)-1), shards: map[int32]*os.File{}}
	for _, e := range entries[1:] {
		k := string(e.key)
		b.keys = append(b.keys, k)
		b.raw[k] = e.value
	}
	return b, nil
}

// Prefix returns the prefix the bundle was opened with.
func (b *Bundle) Prefix() string { return b.prefix }

// Header returns the bundle's header entry (do not modify).
func (b *Bundle) Header() *pb.BundleHeaderProto { return b.header }

// Keys returns the tensor keys in sorted order, without the header key.
func (b *Bundle) Keys() []string {
	return append([]string{}, b.keys...)
}

// Has reports whether the bundle holds key.
func (b *Bundle) Has(key string) bool {
	_, ok := b.raw[key]
	return ok
}

// Entry returns the parsed, validated BundleEntryProto of key: its shape must
// be fully defined and its shard within the header's shard count.
func (b *Bundle) Entry(key string) (*pb.BundleEntryProto, error) {
	raw, ok := b.raw[key]
	if !ok {
		return nil, fmt.Errorf("%w: %s: tensor key %q", ErrNotFound, b.indexName, key)
	}
	return parseBundleEntry(b.indexName, key, raw, b.header.GetNumShards())
}

// parseBundleEntry unmarshals and validates one BundleEntryProto.
func parseBundleEntry(file, key string, raw []byte, numShards int32) (*pb.BundleEntryProto, error) {
	e := &pb.BundleEntryProto{}
	if err := proto.Unmarshal(raw, e); err != nil {
		return nil, fmt.Errorf("%w: %s: entry %q: %w", ErrFormat, file, key, err)
	}
	sh := e.GetShape()
	if sh == nil || sh.GetUnknownRank() {
		return nil, fmt.Errorf("%w: %s: entry %q has no known shape", ErrFormat, file, key)
	}
	for _, d := range sh.GetDim() {
		if d.GetSize() < 0 {
			return nil, fmt.Errorf("%w: %s: entry %q has shape %v", ErrFormat, file, key, tfops.ShapeFromProto(sh))
		}
	}
	if e.GetShardId() < 0 || e.GetShardId() >= numShards {
		return nil, fmt.Errorf("%w: %s: entry %q is in shard %d of %d", ErrFormat, file, key, e.GetShardId(), numShards)
	}
	if e.GetOffset() < 0 || e.GetSize() < 0 {
		return nil, fmt.Errorf("%w: %s: entry %q has offset %d, size %d", ErrFormat, file, key, e.GetOffset(), e.GetSize())
	}
	return e, nil
}

// entryDims returns the entry's dimensions as ints, refusing overflow.
func entryDims(e *pb.BundleEntryProto) ([]int, error) {
	dims := make([]int, len(e.GetShape().GetDim()))
	for i, d := range e.GetShape().GetDim() {
		if d.GetSize() > math.MaxInt32 {
			return nil, fmt.Errorf("dimension %d is %d", i, d.GetSize())
		}
		dims[i] = int(d.GetSize())
	}
	return dims, nil
}

// Tensor reads, checksums and decodes the tensor stored under key. Sizes are
// checked before allocation: the entry's size against MaxTensorBytes and the
// shard file, and, for fixed-size dtypes, against the element count times
// the element size.
func (b *Bundle) Tensor(key string) (*tfops.Tensor, error) {
	e, err := b.Entry(key)
	if err != nil {
		return nil, err
	}
	dtype, dims, err := checkEntry(e, b.maxBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: tensor %q: %w", b.indexName, key, err)
	}
	dataName := DataFilename(b.prefix, int(e.GetShardId()), int(b.header.GetNumShards()))
	f, err := b.shard(e.GetShardId(), dataName)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("savedmodel: %w", err)
	}
	return readTensor(f, st.Size(), dataName, key, e, dtype, dims)
}

// readTensor reads the checked entry e of key from r, a data shard of
// size bytes named dataName, verifies its CRC32C and decodes it.
func readTensor(r io.ReaderAt, size int64, dataName, key string, e *pb.BundleEntryProto, dtype tfops.DType, dims []int) (*tfops.Tensor, error) {
	if e.GetOffset() > size || e.GetSize() > size-e.GetOffset() {
		return nil, fmt.Errorf("%w: %s: tensor %q at [%d, +%d) lies beyond the end of the %d-byte file",
			ErrFormat, dataName, key, e.GetOffset(), e.GetSize(), size)
	}
	buf := make([]byte, e.GetSize())
	if _, err := r.ReadAt(buf, e.GetOffset()); err != nil {
		return nil, fmt.Errorf("savedmodel: read tensor %q from %s: %w", key, dataName, err)
	}
	t, err := decodeBundleData(dtype, dims, buf, e.GetCrc32C())
	if err != nil {
		return nil, fmt.Errorf("%s: tensor %q (%v%v at offset %d): %w", dataName, key, dtype, dims, e.GetOffset(), err)
	}
	return t, nil
}

// checkEntry validates what an entry claims before anything is allocated
// and returns its dtype and dimensions.
func checkEntry(e *pb.BundleEntryProto, maxBytes int64) (tfops.DType, []int, error) {
	if len(e.GetSlices()) > 0 {
		return 0, nil, fmt.Errorf("%w: tensor stored in %d slices", ErrUnsupported, len(e.GetSlices()))
	}
	dtype := tfops.DType(e.GetDtype())
	dims, err := entryDims(e)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %w", ErrTooBig, err)
	}
	if err := checkEntrySize(e, dtype, dims, maxBytes); err != nil {
		return 0, nil, err
	}
	return dtype, dims, nil
}

// checkEntrySize validates an entry's size claim.
func checkEntrySize(e *pb.BundleEntryProto, dtype tfops.DType, dims []int, maxBytes int64) error {
	if e.GetSize() > maxBytes {
		return fmt.Errorf("%w: entry claims %d bytes, limit %d", ErrTooBig, e.GetSize(), maxBytes)
	}
	if err := tfops.CheckAlloc(dtype, dims, maxBytes); err != nil {
		return fmt.Errorf("%w: %w", ErrTooBig, err)
	}
	switch {
	case dtype == tfops.String:
		n := int64(tfops.NumElements(dims))
		// Each element needs at least a one-byte varint length; then comes
		// a 4-byte checksum. An empty entry means empty strings.
		if e.GetSize() != 0 && e.GetSize() < n+4 {
			return fmt.Errorf("%w: %d strings cannot fit in %d bytes", ErrFormat, n, e.GetSize())
		}
	case dtype.Size() == 0 || dtype == tfops.Half:
		return fmt.Errorf("%w: dtype %v", ErrUnsupported, dtype)
	default:
		if want := int64(tfops.NumElements(dims)) * int64(dtype.Size()); e.GetSize() != want {
			return fmt.Errorf("%w: size %d does not match %v%v (%d bytes)", ErrFormat, e.GetSize(), dtype, dims, want)
		}
	}
	return nil
}

// decodeBundleData checks the CRC32C of data against the masked crc and
// decodes it as a tensor.
func decodeBundleData(dtype tfops.DType, dims []int, data []byte, maskedCRC uint32) (*tfops.Tensor, error) {
	want := unmaskCRC(maskedCRC)
	if dtype != tfops.String {
		if got := crc32c(data); got != want {
			return nil, fmt.Errorf("%w: data crc32c %#08x, entry says %#08x", ErrChecksum, got, want)
		}
		return tfops.DecodeContent(dtype, dims, data)
	}
	strs, crc, err := decodeStrings(data, tfops.NumElements(dims))
	if err != nil {
		return nil, err
	}
	if len(data) > 0 && crc != want {
		return nil, fmt.Errorf("%w: string data crc32c %#08x, entry says %#08x", ErrChecksum, crc, want)
	}
	return tfops.FromSlice(strs, dims...)
}

// decodeStrings parses TensorFlow's on-disk string tensor layout
// (WriteStringTensor in tensor_bundle.cc):
//
//	[varint64 len_0] ... [varint64 len_n-1] [fixed32 masked crc of lengths] [bytes_0] ... [bytes_n-1]
//
// The lengths' CRC covers each length as a little-endian uint32 (uint64 when
// it exceeds 32 bits). The returned CRC covers those length words, the four
// stored checksum bytes and the string bytes: what the entry's crc32c masks.
// The layout must fill data exactly; an empty data means n empty strings.
func decodeStrings(data []byte, n int) ([]string, uint32, error) {
	out := make([]string, n)
	if len(data) == 0 {
		return out, 0, nil
	}
	if n > len(data) {
		return nil, 0, fmt.Errorf("%w: %d string lengths cannot fit in %d bytes", ErrFormat, n, len(data))
	}
	lens := make([]uint64, n)
	var crc uint32
	p := 0
	total := uint64(0)
	for i := range lens {
		l, k := binary.Uvarint(data[p:])
		if k <= 0 {
			return nil, 0, fmt.Errorf("%w: bad length of string %d at byte %d", ErrFormat, i, p)
		}
		p += k
		lens[i] = l
		crc = extendLengthCRC(crc, l)
		if l > uint64(len(data)) || total+l > uint64(len(data)) {
			return nil, 0, fmt.Errorf("%w: string %d of %d bytes exceeds the %d-byte entry", ErrFormat, i, l, len(data))
		}
		total += l
	}
	if len(data)-p < 4 {
		return nil, 0, fmt.Errorf("%w: string lengths end at byte %d, no room for their checksum", ErrFormat, p)
	}
	stored := binary.LittleEndian.Uint32(data[p:])
	if unmaskCRC(stored) != crc {
		return nil, 0, fmt.Errorf("%w: string lengths crc32c %#08x, stored %#08x", ErrChecksum, crc, unmaskCRC(stored))
	}
	crc = extendCRC(crc, data[p:p+4])
	p += 4
	if uint64(len(data)-p) != total {
		return nil, 0, fmt.Errorf("%w: %d bytes of string data after the lengths, lengths sum to %d", ErrFormat, len(data)-p, total)
	}
	crc = extendCRC(crc, data[p:])
	for i, l := range lens {
		out[i] = string(data[p : p+int(l)])
		p += int(l)
	}
	return out, crc, nil
}

// extendLengthCRC extends crc with a string length as TensorFlow checksums
// it: a little-endian uint32, or uint64 when it needs more than 32 bits.
func extendLengthCRC(crc uint32, l uint64) uint32 {
	var word [8]byte
	if l <= math.MaxUint32 {
		binary.LittleEndian.PutUint32(word[:4], uint32(l))
		return extendCRC(crc, word[:4])
	}
	binary.LittleEndian.PutUint64(word[:], l)
	return extendCRC(crc, word[:])
}

// shard returns the open data file of shard id, opening it on first use.
func (b *Bundle) shard(id int32, name string) (*os.File, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, fmt.Errorf("savedmodel: %s: bundle is closed", b.prefix)
	}
	if f, ok := b.shards[id]; ok {
		return f, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("savedmodel: open bundle data: %w", err)
	}
	b.shards[id] = f
	return f, nil
}

// Tensors reads every tensor of the bundle, keyed by name.
func (b *Bundle) Tensors() (map[string]*tfops.Tensor, error) {
	out := make(map[string]*tfops.Tensor, len(b.keys))
	for _, k := range b.keys {
		t, err := b.Tensor(k)
		if err != nil {
			return nil, err
		}
		out[k] = t
	}
	return out, nil
}

// Close closes the data files. Reading after Close is an error.
func (b *Bundle) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	var errs []error
	ids := make([]int, 0, len(b.shards))
	for id := range b.shards {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	for _, id := range ids {
		errs = append(errs, b.shards[int32(id)].Close())
	}
	b.shards = map[int32]*os.File{}
	return errors.Join(errs...)
}
