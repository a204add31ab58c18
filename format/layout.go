package format

import (
	"encoding/binary"
	"hash/crc32"
)

// Byte layout; SPEC.md is the authority and these constants follow it.
const (
	Magic         = "\x89MMB\r\n\x1a\n"
	TrailerMagic  = "MMBTRAIL"
	MajorVersion  = 1
	MinorVersion  = 0
	byteOrderMark = 0x0A0B0C0D
	Alignment     = 4096
	PreambleSize  = 64
	TrailerSize   = 64
	// maxIndexSize bounds an index before it is read: 256 MiB holds millions
	// of tensor entries, far beyond any model.
	maxIndexSize = 256 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

func alignUp(n int64) int64 { return (n + Alignment - 1) &^ (Alignment - 1) }

func encodePreamble() []byte {
	b := make([]byte, PreambleSize)
	copy(b, Magic)
	le := binary.LittleEndian
	le.PutUint16(b[8:], MajorVersion)
	le.PutUint16(b[10:], MinorVersion)
	le.PutUint32(b[12:], byteOrderMark)
	le.PutUint32(b[16:], Alignment)
	le.PutUint32(b[20:], PreambleSize)
	le.PutUint32(b[60:], crc32c(b[:60]))
	return b
}

// trailer commits one revision. It always ends at a multiple of Alignment,
// so the next revision's data starts aligned and a reader recovering from a
// torn append only probes offsets k·Alignment − TrailerSize.
type trailer struct {
	revision    uint32
	flags       uint32
	regionStart int64 // first byte of this revision's appended region
	indexOff    int64
	indexLen    int64
	prevTrailer int64 // offset of the previous revision's trailer; 0 for the first
	indexCRC    uint32
}

func (t *trailer) encode() []byte {
	b := make([]byte, TrailerSize)
	le := binary.LittleEndian
	copy(b, TrailerMagic)
	le.PutUint32(b[8:], t.revision)
	le.PutUint32(b[12:], t.flags)
	le.PutUint64(b[16:], uint64(t.regionStart))
	le.PutUint64(b[24:], uint64(t.indexOff))
	le.PutUint64(b[32:], uint64(t.indexLen))
	le.PutUint64(b[40:], uint64(t.prevTrailer))
	le.PutUint32(b[48:], t.indexCRC)
	le.PutUint32(b[60:], crc32c(b[:60]))
	return b
}

// decodeTrailer checks magic and checksum only; placement is checked by the reader.
func decodeTrailer(b []byte) (trailer, bool) {
	if len(b) != TrailerSize || string(b[:8]) != TrailerMagic {
		return trailer{}, false
	}
	le := binary.LittleEndian
	if le.Uint32(b[60:]) != crc32c(b[:60]) {
		return trailer{}, false
	}
	return trailer{
		revision:    le.Uint32(b[8:]),
		flags:       le.Uint32(b[12:]),
		regionStart: int64(le.Uint64(b[16:])),
		indexOff:    int64(le.Uint64(b[24:])),
		indexLen:    int64(le.Uint64(b[32:])),
		prevTrailer: int64(le.Uint64(b[40:])),
		indexCRC:    le.Uint32(b[48:]),
	}, true
}
