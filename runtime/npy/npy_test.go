package npy

import (
	"archive/zip"
	"bytes"
	"errors"
	"math"
	"path/filepath"
	"testing"
)

const fixtures = "../../testdata/fixtures"

func TestReadFixtures(t *testing.T) {
	ids, err := ReadFile(filepath.Join(fixtures, "llama-tiny-f32", "ref_input_ids.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if ids.Descr != "<i4" || len(ids.Shape) != 1 || ids.Shape[0] != 42 {
		t.Fatalf("ref_input_ids: %s %v, want <i4 [42]", ids.Descr, ids.Shape)
	}
	lg, err := ReadFile(filepath.Join(fixtures, "llama-tiny-f32", "ref_logits.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(lg.Shape) != 2 || lg.Shape[0] != 42 || lg.Shape[1] != 512 {
		t.Fatalf("ref_logits shape %v", lg.Shape)
	}
	z, err := ReadNPZ("../../testdata/models/gocoder-4m/reference_logits.npz")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ids0", "ids1", "logits0", "logits1", "greedy0", "greedy1"} {
		if z[k] == nil {
			t.Errorf("npz: %s missing", k)
		}
	}
	g, err := z["greedy0"].Ints()
	if err != nil {
		t.Fatal(err)
	}
	p, _ := z["ids0"].Ints()
	if len(g) != len(p)+48 {
		t.Errorf("greedy0 has %d ids, prompt %d: want prompt + 48", len(g), len(p))
	}
}

func TestWriteRoundTrip(t *testing.T) {
	for _, shape := range [][]int{{3, 5}, {7}, {0, 4}, {2, 1, 3}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(i)*0.25 - 1
		}
		if n > 1 {
			data[1] = float32(math.Inf(-1))
		}
		var b bytes.Buffer
		if err := WriteFloat32(&b, shape, data); err != nil {
			t.Fatal(err)
		}
		if b.Len()-n*4 != 64 && b.Len()-n*4 != 128 {
			t.Errorf("shape %v: header %d bytes, want a multiple of 64", shape, b.Len()-n*4)
		}
		a, err := Parse(b.Bytes())
		if err != nil {
			t.Fatalf("shape %v: %v", shape, err)
		}
		if a.Descr != "<f4" || len(a.Shape) != len(shape) {
			t.Fatalf("shape %v: read %s %v", shape, a.Descr, a.Shape)
		}
		for i := range shape {
			if a.Shape[i] != shape[i] {
				t.Fatalf("shape %v: read %v", shape, a.Shape)
			}
		}
		got, _ := a.Float32()
		for i := range data {
			if got[i] != data[i] {
				t.Fatalf("shape %v: [%d] = %v, want %v", shape, i, got[i], data[i])
			}
		}
	}
	if err := WriteFloat32(new(bytes.Buffer), []int{2, 2}, make([]float32, 3)); err == nil {
		t.Error("shape/length mismatch: no error")
	}
}

func TestParseErrors(t *testing.T) {
	var good bytes.Buffer
	WriteFloat32(&good, []int{2, 3}, make([]float32, 6))
	g := good.Bytes()
	hdr := func(h string) []byte {
		b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
		return append(b, h...)
	}
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"magic", append([]byte("XNUMPY"), g[6:]...), ErrMagic},
		{"version", append(append([]byte{}, g[:6]...), append([]byte{9, 0}, g[8:]...)...), ErrUnsupported},
		{"header past end", g[:20], ErrTruncated},
		{"data short", g[:len(g)-1], ErrTruncated},
		{"data long", append(append([]byte{}, g...), 0), ErrTruncated},
		{"no dict", hdr("nonsense"), ErrHeader},
		{"missing shape", hdr("{'descr': '<f4', 'fortran_order': False}"), ErrHeader},
		{"big shape", hdr("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776)}"), ErrHeader},
		{"dtype", hdr("{'descr': '>f4', 'fortran_order': False, 'shape': (0,)}"), ErrUnsupported},
		{"fortran", hdr("{'descr': '<f4', 'fortran_order': True, 'shape': (0,)}"), ErrUnsupported},
		{"repeated key", hdr("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}"), ErrHeader},
	} {
		_, err := Parse(c.b)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
		}
		var fe *FormatError
		if err != nil && !errors.As(err, &fe) {
			t.Errorf("%s: error %T is not a *FormatError", c.name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	var b bytes.Buffer
	WriteFloat32(&b, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Parse(data)
		if err != nil {
			return
		}
		// A parsed array's data covers exactly its shape.
		if _, ok := itemSize[a.Descr]; !ok || a.Len()*itemSize[a.Descr] != len(a.Data) {
			t.Fatalf("parsed %s %v with %d data bytes", a.Descr, a.Shape, len(a.Data))
		}
		if _, err := a.Float32(); err != nil && a.Descr != "|b1" {
			t.Fatalf("Float32: %v", err)
		}
	})
}

func FuzzParseNPZ(f *testing.F) {
	var arr bytes.Buffer
	WriteFloat32(&arr, []int{2}, []float32{1, 2})
	for _, method := range []uint16{zip.Store, zip.Deflate} {
		var b bytes.Buffer
		zw := zip.NewWriter(&b)
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: "a.npy", Method: method})
		w.Write(arr.Bytes())
		zw.Close()
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseNPZ(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for k, a := range m {
			if a.Len()*itemSize[a.Descr] != len(a.Data) {
				t.Fatalf("member %s: %s %v with %d bytes", k, a.Descr, a.Shape, len(a.Data))
			}
		}
	})
}
