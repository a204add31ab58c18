package format

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with errors.Is through a FormatError.
var (
	ErrBadMagic      = errors.New("not an mmb file (bad magic)")
	ErrVersion       = errors.New("unsupported format version")
	ErrByteOrder     = errors.New("byte-order mark does not match little-endian")
	ErrTruncated     = errors.New("truncated")
	ErrChecksum      = errors.New("checksum mismatch")
	ErrBadIndex      = errors.New("malformed index")
	ErrBadTensor     = errors.New("invalid tensor entry")
	ErrNoRevision    = errors.New("no such revision")
	ErrNoTensor      = errors.New("no such tensor")
	ErrNoCompleteRev = errors.New("no complete revision")
)

// FormatError reports a problem at a byte offset of a file.
type FormatError struct {
	File   string // may be empty for NewFile readers
	Offset int64
	Field  string
	Err    error  // a sentinel above
	Detail string // what was found
}

func (e *FormatError) Error() string {
	s := ""
	if e.File != "" {
		s = e.File + ": "
	}
	s += fmt.Sprintf("offset %d: %s: %v", e.Offset, e.Field, e.Err)
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *FormatError) Unwrap() error { return e.Err }
