package savedmodel

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/golang/snappy"
)

// The LevelDB table format as TensorFlow writes it for variables.index
// (tensorflow/core/lib/io/format.h, block_builder.cc, table_builder.cc):
//
//	[data block 0][trailer] ... [data block n][trailer]
//	[metaindex block][trailer] [index block][trailer] [footer]
//
// A block is a run of prefix-compressed entries
//
//	varint32 shared | varint32 non_shared | varint32 value_len | key[shared:] | value
//
// followed by fixed32 restart offsets and a fixed32 restart count. The
// 5-byte trailer holds the compression type (0 none, 1 snappy) and the masked
// CRC32C of the block contents plus that type byte. The 48-byte footer holds
// the metaindex and index block handles (varint64 offset, varint64 size),
// zero padding to 40 bytes, and the fixed64 magic 0xdb4775248b80fb57. Index
// entries map a key >= every key of a data block to that block's handle.
const (
	tableMagic         = 0xdb4775248b80fb57
	footerLen          = 48
	blockTrailerLen    = 5
	blockTypeNone      = 0
	blockTypeSnappy    = 1
	maxBlockHandleLen  = 20
	maxDecodedBlockLen = 1 << 30
)

// blockHandle locates a block (without its trailer) in a table file.
type blockHandle struct {
	offset, size uint64
}

// decodeHandle reads a block handle from the front of b and returns the rest.
func decodeHandle(b []byte) (blockHandle, []byte, error) {
	off, n := binary.Uvarint(b)
	if n <= 0 {
		return blockHandle{}, nil, fmt.Errorf("bad block handle offset")
	}
	b = b[n:]
	size, m := binary.Uvarint(b)
	if m <= 0 {
		return blockHandle{}, nil, fmt.Errorf("bad block handle size")
	}
	return blockHandle{off, size}, b[m:], nil
}

// appendHandle appends the varint encoding of h.
func appendHandle(b []byte, h blockHandle) []byte {
	b = binary.AppendUvarint(b, h.offset)
	return binary.AppendUvarint(b, h.size)
}

// tableEntry is one key/value of a table.
type tableEntry struct {
	key, value []byte
}

// parseTable checks and decodes a whole table held in memory and returns its
// entries in order. Keys must be strictly increasing. name is the file name
// used in errors.
func parseTable(name string, data []byte) ([]tableEntry, error) {
	if len(data) < footerLen {
		return nil, fmt.Errorf("%w: %s: %d bytes is too short for a table footer (%d bytes)", ErrFormat, name, len(data), footerLen)
	}
	footer := data[len(data)-footerLen:]
	if m := binary.LittleEndian.Uint64(footer[footerLen-8:]); m != tableMagic {
		return nil, fmt.Errorf("%w: %s: bad table magic %#016x (want %#016x)", ErrFormat, name, m, uint64(tableMagic))
	}
	meta, rest, err := decodeHandle(footer[:footerLen-8])
	if err != nil {
		return nil, fmt.Errorf("%w: %s: footer: metaindex %w", ErrFormat, name, err)
	}
	index, _, err := decodeHandle(rest)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: footer: index %w", ErrFormat, name, err)
	}
	body := data[:len(data)-footerLen]
	if err := checkHandle(meta, len(body)); err != nil {
		return nil, fmt.Errorf("%w: %s: metaindex block %w", ErrFormat, name, err)
	}
	indexBlock, err := readBlock(name, body, index)
	if err != nil {
		return nil, err
	}
	indexEntries, err := parseBlock(indexBlock)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: index block at offset %d: %w", ErrFormat, name, index.offset, err)
	}
	var out []tableEntry
	for _, ie := range indexEntries {
		h, _, err := decodeHandle(ie.value)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: index entry %q: %w", ErrFormat, name, ie.key, err)
		}
		blk, err := readBlock(name, body, h)
		if err != nil {
			return nil, err
		}
		entries, err := parseBlock(blk)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: data block at offset %d: %w", ErrFormat, name, h.offset, err)
		}
		for _, e := range entries {
			if len(out) > 0 && bytes.Compare(out[len(out)-1].key, e.key) >= 0 {
				return nil, fmt.Errorf("%w: %s: key %q does not sort after %q", ErrFormat, name, e.key, out[len(out)-1].key)
			}
			if bytes.Compare(e.key, ie.key) > 0 {
				return nil, fmt.Errorf("%w: %s: key %q sorts after its index key %q", ErrFormat, name, e.key, ie.key)
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// checkHandle reports whether block h and its trailer lie inside n bytes.
func checkHandle(h blockHandle, n int) error {
	if n < blockTrailerLen {
		return fmt.Errorf("[%d, +%d) does not fit in %d bytes", h.offset, h.size, n)
	}
	avail := uint64(n) - blockTrailerLen
	if h.offset > avail || h.size > avail-h.offset {
		return fmt.Errorf("[%d, +%d) plus %d-byte trailer exceeds the %d bytes before the footer", h.offset, h.size, blockTrailerLen, n)
	}
	return nil
}

// readBlock returns the contents of block h, verifying the trailer's CRC and
// decompressing snappy blocks.
func readBlock(name string, body []byte, h blockHandle) ([]byte, error) {
	if err := checkHandle(h, len(body)); err != nil {
		return nil, fmt.Errorf("%w: %s: block %w", ErrFormat, name, err)
	}
	blk := body[h.offset : h.offset+h.size+blockTrailerLen]
	contents, typ := blk[:h.size], blk[h.size]
	want := unmaskCRC(binary.LittleEndian.Uint32(blk[h.size+1:]))
	if got := crc32c(blk[:h.size+1]); got != want {
		return nil, fmt.Errorf("%w: %s: block at offset %d (%d bytes): crc32c %#08x, trailer says %#08x",
			ErrChecksum, name, h.offset, h.size, got, want)
	}
	switch typ {
	case blockTypeNone:
		return contents, nil
	case blockTypeSnappy:
		n, err := snappy.DecodedLen(contents)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: snappy block at offset %d: %w", ErrFormat, name, h.offset, err)
		}
		// Snappy expands at most ~22x (a 3-byte copy of 64 bytes); a larger
		// claim is corrupt and must not drive the allocation.
		if n > maxDecodedBlockLen || uint64(n) > 32*h.size+64 {
			return nil, fmt.Errorf("%w: %s: snappy block at offset %d claims %d bytes from %d", ErrFormat, name, h.offset, n, h.size)
		}
		out, err := snappy.Decode(make([]byte, n), contents)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: snappy block at offset %d: %w", ErrFormat, name, h.offset, err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: %s: block at offset %d has compression type %d", ErrUnsupported, name, h.offset, typ)
}

// parseBlock decodes every entry of a block's contents.
func parseBlock(b []byte) ([]tableEntry, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("block of %d bytes has no restart count", len(b))
	}
	nr := uint64(binary.LittleEndian.Uint32(b[len(b)-4:]))
	if nr > uint64(len(b)-4)/4 {
		return nil, fmt.Errorf("%d restart points do not fit in %d bytes", nr, len(b))
	}
	end := len(b) - 4 - 4*int(nr)
	for i := 0; i < int(nr); i++ {
		r := binary.LittleEndian.Uint32(b[end+4*i:])
		if uint64(r) > uint64(end) || (end > 0 && uint64(r) == uint64(end)) {
			return nil, fmt.Errorf("restart point %d at offset %d is outside the %d entry bytes", i, r, end)
		}
	}
	var out []tableEntry
	var prev []byte
	for p := 0; p < end; {
		var v [3]uint64
		for i := range v {
			x, n := binary.Uvarint(b[p:end])
			if n <= 0 || x > math.MaxUint32 {
				return nil, fmt.Errorf("bad entry header at offset %d", p)
			}
			v[i] = x
			p += n
		}
		shared, nonShared, valLen := v[0], v[1], v[2]
		if shared > uint64(len(prev)) {
			return nil, fmt.Errorf("entry at offset %d shares %d bytes of a %d-byte key", p, shared, len(prev))
		}
		if nonShared+valLen > uint64(end-p) {
			return nil, fmt.Errorf("entry at offset %d needs %d bytes, %d left", p, nonShared+valLen, end-p)
		}
		key := make([]byte, 0, shared+nonShared)
		key = append(append(key, prev[:shared]...), b[p:p+int(nonShared)]...)
		p += int(nonShared)
		out = append(out, tableEntry{key: key, value: b[p : p+int(valLen)]})
		p += int(valLen)
		prev = key
	}
	return out, nil
}
