package inspect

import (
	"slices"

	"github.com/mmbformat/mmb/format"
)

// RevDiff lists what changed from revision From to revision To.
type RevDiff struct {
	From      int            `json:"from"`
	To        int            `json:"to"`
	Added     []Tensor       `json:"added"`
	Removed   []Tensor       `json:"removed"`
	Changed   []TensorChange `json:"changed"`
	Unchanged int            `json:"unchanged"`
	Metadata  []ValueChange  `json:"metadata"`
	Config    []ValueChange  `json:"config"`
	Metrics   []ValueChange  `json:"metrics"`
}

// TensorChange is a tensor present in both revisions with different
// content; What lists "dtype", "shape" and/or "data".
type TensorChange struct {
	Name string   `json:"name"`
	What []string `json:"what"`
	From Tensor   `json:"from"`
	To   Tensor   `json:"to"`
}

// ValueChange is a key added (From nil), removed (To nil) or changed.
type ValueChange struct {
	Key  string  `json:"key"`
	From *string `json:"from"`
	To   *string `json:"to"`
}

// Diff compares two revisions. A tensor whose dtype, shape and checksum are
// equal is unchanged even if a later revision rewrote its bytes.
func Diff(a, b *format.Revision) *RevDiff {
	d := &RevDiff{From: a.Number, To: b.Number, Added: []Tensor{}, Removed: []Tensor{}, Changed: []TensorChange{}}
	for i := range a.Tensors {
		ta := &a.Tensors[i]
		tb, ok := b.Tensor(ta.Name)
		if !ok {
			d.Removed = append(d.Removed, tensorOf(ta))
			continue
		}
		var what []string
		if ta.DType != tb.DType {
			what = append(what, "dtype")
		}
		if !slices.Equal(ta.Shape, tb.Shape) {
			what = append(what, "shape")
		}
		if ta.CRC32C != tb.CRC32C || ta.NBytes != tb.NBytes {
			what = append(what, "data")
		}
		if what == nil {
			d.Unchanged++
			continue
		}
		d.Changed = append(d.Changed, TensorChange{Name: ta.Name, What: what, From: tensorOf(ta), To: tensorOf(tb)})
	}
	for i := range b.Tensors {
		if _, ok := a.Tensor(b.Tensors[i].Name); !ok {
			d.Added = append(d.Added, tensorOf(&b.Tensors[i]))
		}
	}
	d.Metadata = diffMaps(a.Metadata, b.Metadata)
	ca, cb := map[string]string{}, map[string]string{}
	if v := configValue(a.Config); v != nil {
		flatten("", v, ca)
	}
	if v := configValue(b.Config); v != nil {
		flatten("", v, cb)
	}
	d.Config = diffMaps(ca, cb)
	ma, mb := map[string]string{}, map[string]string{}
	flatten("", anyMap(finite(a.Metrics)), ma)
	flatten("", anyMap(finite(b.Metrics)), mb)
	d.Metrics = diffMaps(ma, mb)
	return d
}

func anyMap(m map[string]any) any { return m }

func diffMaps(a, b map[string]string) []ValueChange {
	out := []ValueChange{}
	keys := sortedKeys(a)
	for _, k := range sortedKeys(b) {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		va, inA := a[k]
		vb, inB := b[k]
		switch {
		case inA && inB && va == vb:
		case inA && inB:
			out = append(out, ValueChange{Key: k, From: &va, To: &vb})
		case inA:
			out = append(out, ValueChange{Key: k, From: &va})
		default:
			out = append(out, ValueChange{Key: k, To: &vb})
		}
	}
	return out
}
