package savedmodel

import "hash/crc32"

// castagnoli is the CRC-32C table TensorFlow and LevelDB checksum with.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crcMaskDelta is LevelDB's mask constant (tensorflow/core/lib/hash/crc32c.h).
const crcMaskDelta = 0xa282ead8

// maskCRC returns the masked form of crc that TensorFlow stores:
// ((crc >> 15) | (crc << 17)) + 0xa282ead8. Masking keeps a CRC of data that
// itself embeds CRCs from being degenerate.
func maskCRC(crc uint32) uint32 {
	return ((crc >> 15) | (crc << 17)) + crcMaskDelta
}

// unmaskCRC inverts maskCRC.
func unmaskCRC(masked uint32) uint32 {
	rot := masked - crcMaskDelta
	return (rot >> 17) | (rot << 15)
}

// crc32c returns the CRC-32C of b.
func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// extendCRC extends crc with b.
func extendCRC(crc uint32, b []byte) uint32 { return crc32.Update(crc, castagnoli, b) }
