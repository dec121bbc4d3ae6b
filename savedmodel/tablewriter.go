package savedmodel

import (
	"encoding/binary"
)

// Block layout parameters, LevelDB's defaults (tensorflow/core/lib/io/table_options.h).
const (
	targetBlockSize      = 4096
	blockRestartInterval = 16
)

// blockBuilder accumulates prefix-compressed entries of one block.
type blockBuilder struct {
	buf      []byte
	restarts []uint32
	counter  int
	interval int
	last     []byte
}

func newBlockBuilder(interval int) *blockBuilder {
	return &blockBuilder{restarts: []uint32{0}, interval: interval}
}

// add appends key/value; keys must arrive in strictly increasing order.
func (b *blockBuilder) add(key, value []byte) {
	shared := 0
	if b.counter < b.interval {
		for shared < len(key) && shared < len(b.last) && key[shared] == b.last[shared] {
			shared++
		}
	} else {
		b.restarts = append(b.restarts, uint32(len(b.buf)))
		b.counter = 0
	}
	b.buf = binary.AppendUvarint(b.buf, uint64(shared))
	b.buf = binary.AppendUvarint(b.buf, uint64(len(key)-shared))
	b.buf = binary.AppendUvarint(b.buf, uint64(len(value)))
	b.buf = append(b.buf, key[shared:]...)
	b.buf = append(b.buf, value...)
	b.last = append(b.last[:0], key...)
	b.counter++
}

// empty reports whether no entry was added.
func (b *blockBuilder) empty() bool { return len(b.buf) == 0 }

// estimatedSize is the size finish would return.
func (b *blockBuilder) estimatedSize() int { return len(b.buf) + 4*len(b.restarts) + 4 }

// finish returns the block contents (entries, restart array, restart count).
func (b *blockBuilder) finish() []byte {
	out := b.buf
	for _, r := range b.restarts {
		out = binary.LittleEndian.AppendUint32(out, r)
	}
	return binary.LittleEndian.AppendUint32(out, uint32(len(b.restarts)))
}

// buildTable returns a LevelDB-format table holding entries, whose keys
// must be strictly increasing. Blocks are stored uncompressed, as
// TensorFlow's BundleWriter stores them; the metaindex block is empty and
// each index key is the last key of its data block.
func buildTable(entries []tableEntry) []byte {
	var out []byte
	writeBlock := func(contents []byte) blockHandle {
		h := blockHandle{offset: uint64(len(out)), size: uint64(len(contents))}
		out = append(out, contents...)
		out = append(out, blockTypeNone)
		crc := extendCRC(crc32c(contents), []byte{blockTypeNone})
		out = binary.LittleEndian.AppendUint32(out, maskCRC(crc))
		return h
	}
	index := newBlockBuilder(1)
	data := newBlockBuilder(blockRestartInterval)
	flush := func() {
		if data.empty() {
			return
		}
		last := append([]byte{}, data.last...)
		h := writeBlock(data.finish())
		index.add(last, appendHandle(nil, h))
		data = newBlockBuilder(blockRestartInterval)
	}
	for _, e := range entries {
		data.add(e.key, e.value)
		if data.estimatedSize() >= targetBlockSize {
			flush()
		}
	}
	flush()
	meta := writeBlock(newBlockBuilder(blockRestartInterval).finish())
	idx := writeBlock(index.finish())
	footer := appendHandle(nil, meta)
	footer = appendHandle(footer, idx)
	footer = append(footer, make([]byte, footerLen-8-len(footer))...)
	footer = binary.LittleEndian.AppendUint64(footer, tableMagic)
	return append(out, footer...)
}
