// Package inspect is what the mmbdump and mmbedit tools do: describe a .mmb
// file (text or JSON), verify it, compute tensor statistics, compare
// revisions and append metadata-only edit revisions.
package inspect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/mmbformat/mmb/format"
	"github.com/vmihailenco/msgpack/v5"
)

// Description is everything mmbdump shows about one revision of a file; it
// is also the --json output.
type Description struct {
	File          string             `json:"file"`
	Size          int64              `json:"size"`
	FormatVersion string             `json:"format_version"`
	SkippedBytes  int64              `json:"skipped_bytes"`
	Revision      int                `json:"revision"` // the revision described
	Revisions     []RevisionSummary  `json:"revisions"`
	Config        any                `json:"config"`
	Metadata      map[string]string  `json:"metadata"`
	Metrics       map[string]any     `json:"metrics"`
	Provenance    *format.Provenance `json:"provenance"`
	Tokenizer     TokenizerSummary   `json:"tokenizer"`
	Tensors       []Tensor           `json:"tensors"`
	TensorBytes   int64              `json:"tensor_bytes"`

	config *format.Config
}

// RevisionSummary is one line of the revision history.
type RevisionSummary struct {
	Number  int    `json:"number"`
	Stage   string `json:"stage"`
	Parent  int    `json:"parent"`
	Time    string `json:"time"` // RFC 3339, UTC
	Size    int64  `json:"size"` // bytes of the file this revision appended
	Tensors int    `json:"tensors"`
	Written int    `json:"written"` // tensors whose data this revision wrote
}

// Tensor is one row of the tensor table.
type Tensor struct {
	Name     string  `json:"name"`
	DType    string  `json:"dtype"`
	Shape    []int64 `json:"shape"`
	Offset   int64   `json:"offset"`
	NBytes   int64   `json:"nbytes"`
	Revision int     `json:"revision"`
	CRC32C   uint32  `json:"crc32c"`
}

func tensorOf(t *format.TensorInfo) Tensor {
	shape := t.Shape
	if shape == nil {
		shape = []int64{}
	}
	return Tensor{Name: t.Name, DType: t.DType.String(), Shape: shape, Offset: t.Offset, NBytes: t.NBytes, Revision: t.Revision, CRC32C: t.CRC32C}
}

// Describe summarises revision r of f.
func Describe(f *format.File, r *format.Revision) *Description {
	major, minor := f.Version()
	d := &Description{
		File: f.Name(), Size: f.Size(), FormatVersion: fmt.Sprintf("%d.%d", major, minor),
		SkippedBytes: f.SkippedBytes(), Revision: r.Number,
		Config: configValue(r.Config), Metadata: r.Metadata, Metrics: finite(r.Metrics),
		Provenance: r.Provenance, Tokenizer: tokenizerSummary(f, r), config: r.Config,
	}
	if d.Metadata == nil {
		d.Metadata = map[string]string{}
	}
	for _, rv := range f.Revisions() {
		s := RevisionSummary{Number: rv.Number, Stage: rv.Stage, Parent: rv.Parent,
			Time: rv.Time.UTC().Format(time.RFC3339Nano), Size: rv.End() - rv.DataStart(), Tensors: len(rv.Tensors)}
		for i := range rv.Tensors {
			if rv.Tensors[i].Revision == rv.Number {
				s.Written++
			}
		}
		d.Revisions = append(d.Revisions, s)
	}
	d.Tensors = make([]Tensor, len(r.Tensors))
	for i := range r.Tensors {
		d.Tensors[i] = tensorOf(&r.Tensors[i])
		d.TensorBytes += r.Tensors[i].NBytes
	}
	return d
}

// configValue turns the config into plain maps for JSON: a config read from
// a file may hold NaN or Inf, which encoding/json refuses, so non-finite
// floats become strings.
func configValue(c *format.Config) any {
	if c == nil {
		return nil
	}
	b, err := msgpack.Marshal(c)
	if err != nil {
		return nil
	}
	var v any
	if err := msgpack.Unmarshal(b, &v); err != nil {
		return nil
	}
	return sanitize(v)
}

func sanitize(v any) any {
	switch x := v.(type) {
	case float64:
		return finiteValue(x)
	case float32:
		return finiteValue(float64(x))
	case map[string]any:
		for k, e := range x {
			x[k] = sanitize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = sanitize(e)
		}
	}
	return v
}

func finiteValue(x float64) any {
	switch {
	case math.IsNaN(x):
		return "NaN"
	case math.IsInf(x, 1):
		return "+Inf"
	case math.IsInf(x, -1):
		return "-Inf"
	}
	return x
}

func finite(m map[string]float64) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = finiteValue(v)
	}
	return out
}

// flatten lists a JSON-like value as dotted keys with printable values,
// for the text output and for config diffs.
func flatten(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, e, out)
		}
	default:
		out[prefix] = display(x)
	}
}

// display formats a leaf for text: strings as they are (the caller escapes),
// lists element by element, numbers and booleans as JSON.
func display(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = display(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// marshalJSON encodes v indented and escapes DEL and the C1 control
// characters, which encoding/json passes through but terminals interpret.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	out := make([]byte, 0, len(b))
	for _, r := range string(b) {
		if r == 0x7f || (r >= 0x80 && r < 0xa0) {
			out = fmt.Appendf(out, `\u%04x`, r)
			continue
		}
		out = append(out, string(r)...)
	}
	return out, nil
}
