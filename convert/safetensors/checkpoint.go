package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// IndexName is the file name of a sharded checkpoint's index.
const IndexName = "model.safetensors.index.json"

// Checkpoint is a set of safetensors files read as one: a single file or
// the shards named by an index.
type Checkpoint struct {
	Dir       string
	IndexPath string // empty for a single file
	Files     []*File
	loc       map[string]tensorLoc
	names     []string
}

type tensorLoc struct {
	f *File
	i int
}

// OpenCheckpoint opens path, which is a .safetensors file, an index file,
// or a folder holding either an index and its shards, model.safetensors, or
// exactly one .safetensors file.
func OpenCheckpoint(path string) (*Checkpoint, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		if strings.HasSuffix(path, ".json") {
			return openSharded(path)
		}
		f, err := Open(path)
		if err != nil {
			return nil, err
		}
		return newCheckpoint(filepath.Dir(path), "", []*File{f})
	}
	if _, err := os.Stat(filepath.Join(path, IndexName)); err == nil {
		return openSharded(filepath.Join(path, IndexName))
	}
	single := filepath.Join(path, "model.safetensors")
	if _, err := os.Stat(single); err != nil {
		m, _ := filepath.Glob(filepath.Join(path, "*.safetensors"))
		if len(m) != 1 {
			return nil, fmt.Errorf("%s: no %s and %d .safetensors files (want the index, model.safetensors or exactly one file)", path, IndexName, len(m))
		}
		single = m[0]
	}
	f, err := Open(single)
	if err != nil {
		return nil, err
	}
	return newCheckpoint(path, "", []*File{f})
}

// Index is the content of model.safetensors.index.json.
type Index struct {
	Metadata  map[string]any
	WeightMap map[string]string
	// Shards lists the shard files in sorted order.
	Shards []string
}

// ParseIndex decodes an index, rejecting duplicate tensor names and shard
// names that are not plain file names in the same folder.
func ParseIndex(b []byte) (*Index, error) {
	var raw struct {
		Metadata  map[string]any  `json:"metadata"`
		WeightMap json.RawMessage `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, &FormatError{Field: "index", Err: ErrIndex, Detail: err.Error()}
	}
	if raw.WeightMap == nil {
		return nil, &FormatError{Field: "weight_map", Err: ErrIndex, Detail: "missing"}
	}
	ix := &Index{Metadata: raw.Metadata, WeightMap: map[string]string{}}
	dec := json.NewDecoder(bytes.NewReader(raw.WeightMap))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, &FormatError{Field: "weight_map", Err: ErrIndex, Detail: "not an object"}
	}
	shards := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, &FormatError{Field: "weight_map", Err: ErrIndex, Detail: err.Error()}
		}
		name := t.(string) // object keys are always strings
		var shard string
		if err := dec.Decode(&shard); err != nil {
			return nil, &FormatError{Field: "weight_map." + name, Err: ErrIndex, Detail: err.Error()}
		}
		if _, dup := ix.WeightMap[name]; dup {
			return nil, &FormatError{Field: "weight_map." + name, Err: ErrDuplicate, Detail: "listed twice in the index"}
		}
		if shard == "" || shard != filepath.Base(shard) || shard == "." || shard == ".." || strings.ContainsAny(shard, `/\`) {
			return nil, &FormatError{Field: "weight_map." + name, Err: ErrIndex, Detail: fmt.Sprintf("shard %q is not a file name in the index's folder", shard)}
		}
		ix.WeightMap[name] = shard
		shards[shard] = true
	}
	for s := range shards {
		ix.Shards = append(ix.Shards, s)
	}
	sort.Strings(ix.Shards)
	return ix, nil
}

func openSharded(indexPath string) (*Checkpoint, error) {
	b, err := os.ReadFile(indexPath)
	if err != nil {
		return nil, err
	}
	ix, err := ParseIndex(b)
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.File = indexPath
		}
		return nil, err
	}
	dir := filepath.Dir(indexPath)
	var files []*File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	for _, s := range ix.Shards {
		f, err := Open(filepath.Join(dir, s))
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("open shard: %s names %s: %w", indexPath, s, err)
		}
		files = append(files, f)
	}
	c, err := newCheckpoint(dir, indexPath, files)
	if err != nil {
		closeAll()
		return nil, err
	}
	// Cross-check both ways: every indexed tensor is in its shard, and every
	// tensor of a shard is indexed there.
	for name, shard := range ix.WeightMap {
		l, ok := c.loc[name]
		if !ok {
			c.Close()
			return nil, &FormatError{File: indexPath, Field: strconv.Quote(name), Err: ErrIndex, Detail: fmt.Sprintf("indexed in %s, which does not hold it", shard)}
		}
		if filepath.Base(l.f.name) != shard {
			c.Close()
			return nil, &FormatError{File: indexPath, Field: strconv.Quote(name), Err: ErrIndex, Detail: fmt.Sprintf("indexed in %s but found in %s", shard, filepath.Base(l.f.name))}
		}
	}
	for _, name := range c.names {
		if _, ok := ix.WeightMap[name]; !ok {
			l := c.loc[name]
			c.Close()
			return nil, &FormatError{File: indexPath, Field: strconv.Quote(name), Err: ErrIndex, Detail: fmt.Sprintf("in %s but not in the index", filepath.Base(l.f.name))}
		}
	}
	return c, nil
}

func newCheckpoint(dir, index string, files []*File) (*Checkpoint, error) {
	c := &Checkpoint{Dir: dir, IndexPath: index, Files: files, loc: map[string]tensorLoc{}}
	for _, f := range files {
		for i, t := range f.tensors {
			if prev, dup := c.loc[t.Name]; dup {
				return nil, &FormatError{File: f.name, Offset: t.Begin, Field: strconv.Quote(t.Name), Err: ErrDuplicate, Detail: "also in " + prev.f.name}
			}
			c.loc[t.Name] = tensorLoc{f, i}
			c.names = append(c.names, t.Name)
		}
	}
	sort.Strings(c.names)
	return c, nil
}

// Close closes every file.
func (c *Checkpoint) Close() error {
	var errs []error
	for _, f := range c.Files {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// Names lists every tensor name, sorted.
func (c *Checkpoint) Names() []string { return c.names }

// Tensor finds a tensor and the file that holds it.
func (c *Checkpoint) Tensor(name string) (*File, *TensorInfo, bool) {
	l, ok := c.loc[name]
	if !ok {
		return nil, nil, false
	}
	return l.f, &l.f.tensors[l.i], true
}

// Paths lists the files read: the index (if any), then the shards.
func (c *Checkpoint) Paths() []string {
	var p []string
	if c.IndexPath != "" {
		p = append(p, c.IndexPath)
	}
	for _, f := range c.Files {
		p = append(p, f.name)
	}
	return p
}

// WriteTensor is one tensor for Write: Write must produce exactly the
// tensor's bytes.
type WriteTensor struct {
	Name  string
	DType string
	Shape []int64
	Write func(w io.Writer) error
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Write writes a safetensors file: the header (tensors in the given order,
// padded with spaces to a multiple of 8 bytes as the reference writer does),
// then each tensor's bytes, streamed.
func Write(w io.Writer, ts []WriteTensor, metadata map[string]string) error {
	var hb bytes.Buffer
	hb.WriteByte('{')
	first := true
	if len(metadata) > 0 {
		m, err := json.Marshal(metadata) // sorted keys
		if err != nil {
			return err
		}
		hb.WriteString(`"__metadata__":`)
		hb.Write(m)
		first = false
	}
	var off int64
	sizes := make([]int64, len(ts))
	for i, t := range ts {
		es := DTypeSize(t.DType)
		if es == 0 {
			return fmt.Errorf("write %s: unknown dtype %q", t.Name, t.DType)
		}
		n := int64(es)
		for _, d := range t.Shape {
			n *= d
		}
		sizes[i] = n
		if !first {
			hb.WriteByte(',')
		}
		first = false
		name, _ := json.Marshal(t.Name)
		shape, _ := json.Marshal(t.Shape)
		if t.Shape == nil {
			shape = []byte("[]")
		}
		fmt.Fprintf(&hb, `%s:{"dtype":%q,"shape":%s,"data_offsets":[%d,%d]}`, name, t.DType, shape, off, off+n)
		off += n
	}
	hb.WriteByte('}')
	for hb.Len()%8 != 0 {
		hb.WriteByte(' ')
	}
	var lb [8]byte
	for i, n := 0, uint64(hb.Len()); i < 8; i++ {
		lb[i] = byte(n >> (8 * i))
	}
	if _, err := w.Write(lb[:]); err != nil {
		return err
	}
	if _, err := w.Write(hb.Bytes()); err != nil {
		return err
	}
	for i, t := range ts {
		cw := &countWriter{w: w}
		if err := t.Write(cw); err != nil {
			return fmt.Errorf("write %s: %w", t.Name, err)
		}
		if cw.n != sizes[i] {
			return fmt.Errorf("write %s: wrote %d bytes, %s %v needs %d", t.Name, cw.n, t.DType, t.Shape, sizes[i])
		}
	}
	return nil
}
