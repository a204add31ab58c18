package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mmbformat/mmb/format"
)

const evilName = "evil\x1b[2J\u009bname"

func f32(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		bits := math.Float32bits(x)
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(bits), byte(bits>>8), byte(bits>>16), byte(bits>>24)
	}
	return b
}

func testConfig() *format.Config {
	return &format.Config{Architecture: "llama", HiddenSize: 8, IntermediateSize: 16, NumLayers: 2, NumHeads: 2,
		NumKVHeads: 1, HeadDim: 4, VocabSize: 10, MaxPositions: 32, RMSNormEps: 1e-5,
		Rope: format.Rope{Theta: 10000, Type: "default"}, LayerKinds: []format.LayerKind{format.Attention, format.Mamba2},
		Mamba:      &format.Mamba{DState: 4, DConv: 4, DInner: 8, DXB: 4, Heads: 2, KVHeads: 1, HeadDim: 4, NormEps: 1e-5},
		BOSTokenID: 1, EOSTokenIDs: []int{2}}
}

const tokJSON = `{"version":"1.0","truncation":null,"added_tokens":[{"id":0,"content":"<unk>"},{"id":1,"content":"<s>"}],
"normalizer":{"type":"Sequence","normalizers":[{"type":"Replace"}]},"model":{"type":"BPE","dropout":null,"vocab":{"a":0,"b":1}}}`

const tokConfig = `{"bos_token":"<s>","eos_token":{"content":"</s>","lstrip":false},"chat_template":"{{ messages }}"}`

// makeFile writes revision 0 (convert) and revision 1 (distill: w replaced,
// m added, e removed, a metric) and returns the path.
func makeFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tiny.mmb")
	w, err := format.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	q8 := make([]byte, format.Q8BlockBytes)
	q8[0], q8[1] = 0x00, 0x38 // f16 0.5
	for i := 0; i < format.Q8Block; i++ {
		q8[2+i] = byte(int8(i - 16))
	}
	ramp := make([]float32, 100000)
	for i := range ramp {
		ramp[i] = float32(i)
	}
	add := func(name string, dt format.DType, shape []int64, b []byte) {
		t.Helper()
		if err := w.AddTensorBytes(name, dt, shape, b); err != nil {
			t.Fatal(err)
		}
	}
	add("w", format.F32, []int64{2, 3}, f32(1, 2, 3, float32(math.NaN()), float32(math.Inf(1)), -5))
	add("q", format.Q8_0, []int64{1, 32}, q8)
	add("e", format.BF16, []int64{2}, []byte{0x80, 0x3f, 0x00, 0x40})
	add("ramp", format.F32, []int64{100000}, f32(ramp...))
	add(evilName, format.F32, []int64{1}, f32(0))
	add(format.TokenizerJSONTensor, format.U8, []int64{int64(len(tokJSON))}, []byte(tokJSON))
	add(format.TokenizerConfigTensor, format.U8, []int64{int64(len(tokConfig))}, []byte(tokConfig))
	_, err = w.Commit(format.Meta{Stage: "convert", Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Config: testConfig(),
		Metadata:   map[string]string{"general.name": "tiny", "tokenizer.chat_template": "{% for m in messages %}\n{{ m }}{% endfor %}"},
		Provenance: &format.Provenance{Tool: "test", Command: "go test", Sources: []format.Source{{Name: "model.safetensors", Size: 123, SHA256: "ab"}}}})
	if err != nil {
		t.Fatal(err)
	}
	w, err = format.Append(path)
	if err != nil {
		t.Fatal(err)
	}
	add("w", format.F32, []int64{2, 3}, f32(0, 0, 0, 0, 0, 0))
	add("m", format.F16, []int64{2}, []byte{0x00, 0x3c, 0x00, 0x3c})
	if err := w.Remove("e"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(format.Meta{Stage: "distill", Time: time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC), Metrics: map[string]float64{"loss": 0.5}}); err != nil {
		t.Fatal(err)
	}
	return path
}

func dump(t *testing.T, args ...string) (string, error) {
	t.Helper()
	path, o, err := ParseDumpArgs(args)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	err = Dump(&out, path, o)
	return out.String(), err
}

func noControl(t *testing.T, s string) {
	t.Helper()
	for _, r := range s {
		if r == 0x1b || r == 0x9b || r == 0x7f {
			t.Fatalf("output carries control character %U: %q", r, s)
		}
	}
}

func TestDumpJSON(t *testing.T) {
	path := makeFile(t)
	out, err := dump(t, path, "--json")
	if err != nil {
		t.Fatal(err)
	}
	noControl(t, out)
	var d struct {
		FormatVersion string `json:"format_version"`
		Revision      int    `json:"revision"`
		Revisions     []struct {
			Number int    `json:"number"`
			Stage  string `json:"stage"`
			Parent *int   `json:"parent"`
			Time   string `json:"time"`
		} `json:"revisions"`
		Config struct {
			LayerKinds []string `json:"layer_kinds"`
			HiddenSize int      `json:"hidden_size"`
			Rope       struct {
				Theta float64 `json:"theta"`
			} `json:"rope"`
		} `json:"config"`
		Metadata  map[string]string  `json:"metadata"`
		Metrics   map[string]float64 `json:"metrics"`
		Tokenizer TokenizerSummary   `json:"tokenizer"`
		Tensors   []map[string]any   `json:"tensors"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if d.FormatVersion != "1.0" || d.Revision != 1 || len(d.Revisions) != 2 {
		t.Fatalf("version %q revision %d, %d revisions", d.FormatVersion, d.Revision, len(d.Revisions))
	}
	r0, r1 := d.Revisions[0], d.Revisions[1]
	if r0.Number != 0 || r0.Stage != "convert" || r0.Parent == nil || *r0.Parent != -1 || r0.Time != "2025-01-02T03:04:05Z" {
		t.Fatalf("revision 0: %+v", r0)
	}
	if r1.Number != 1 || r1.Stage != "distill" || *r1.Parent != 0 || r1.Time != "2025-01-03T00:00:00Z" {
		t.Fatalf("revision 1: %+v", r1)
	}
	if !reflect.DeepEqual(d.Config.LayerKinds, []string{"attention", "mamba2"}) || d.Config.HiddenSize != 8 || d.Config.Rope.Theta != 10000 {
		t.Fatalf("config %+v", d.Config)
	}
	if d.Metadata["general.name"] != "tiny" || d.Metrics["loss"] != 0.5 {
		t.Fatalf("metadata %v metrics %v", d.Metadata, d.Metrics)
	}
	tk := d.Tokenizer
	if tk.Model != "BPE" || tk.AddedTokens != 2 || tk.BOSToken != "<s>" || tk.EOSToken != "</s>" || tk.ChatTemplateBytes != len("{{ messages }}") || len(tk.Tensors) != 2 {
		t.Fatalf("tokenizer %+v", tk)
	}
	// every tensor row matches what the reader says
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := f.Latest()
	if len(d.Tensors) != len(r.Tensors) {
		t.Fatalf("%d tensors, want %d", len(d.Tensors), len(r.Tensors))
	}
	for i, row := range d.Tensors {
		ti := r.Tensors[i]
		shape := []any{}
		for _, s := range ti.Shape {
			shape = append(shape, float64(s))
		}
		want := map[string]any{"name": ti.Name, "dtype": ti.DType.String(), "shape": shape, "offset": float64(ti.Offset),
			"nbytes": float64(ti.NBytes), "revision": float64(ti.Revision), "crc32c": float64(ti.CRC32C)}
		if !reflect.DeepEqual(row, want) {
			t.Fatalf("tensor row %v, want %v", row, want)
		}
	}
}

func TestDumpText(t *testing.T) {
	path := makeFile(t)
	out, err := dump(t, "--rev", "0", path)
	if err != nil {
		t.Fatal(err)
	}
	noControl(t, out)
	for _, want := range []string{
		"format:    1.0\n", "revision:  0 of 2\n",
		"* 0  convert  -       2025-01-02T03:04:05Z",
		"  1  distill  0       2025-01-03T00:00:00Z",
		"  layer_kinds: [attention, mamba2]\n", "  rope.type: default\n", "  mamba.norm_eps: 0.00001\n",
		"  tokenizer.json: ", "  model: BPE, 2 added tokens\n", "  bos_token: <s>  eos_token: </s>\n",
		`  tokenizer.chat_template = "{% for m in messages %}\n{{ m }}{% endfor %}"` + "\n",
		"  source: model.safetensors 123 bytes sha256 ab\n",
		"tensors: 7, ",
		`"evil\x1b[2J\u009bname"`,
		"   BF16       [2]       4   12288    0  e\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

func TestDumpTornTail(t *testing.T) {
	path := makeFile(t)
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.Write(make([]byte, 5000))
	fh.Close()
	out, err := dump(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "warning:   skipped 5000 bytes of a torn append after revision 1\n") {
		t.Fatalf("no torn-append warning:\n%s", out)
	}
	out, _ = dump(t, path, "--json")
	var d struct {
		SkippedBytes int64 `json:"skipped_bytes"`
	}
	if json.Unmarshal([]byte(out), &d); d.SkippedBytes != 5000 {
		t.Fatalf("skipped_bytes %d", d.SkippedBytes)
	}
}

func TestVerify(t *testing.T) {
	path := makeFile(t)
	out, err := dump(t, path, "--verify")
	if err != nil || !strings.Contains(out, "ok: revision 1, 7 tensors verified") {
		t.Fatalf("clean file: %v\n%s", err, out)
	}
	// corrupt two tensors of the newest revision
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ramp, _ := f.Latest().Tensor("ramp")
	evil, _ := f.Latest().Tensor(evilName)
	offs := []int64{ramp.Offset + 1000, evil.Offset}
	f.Close()
	b, _ := os.ReadFile(path)
	for _, o := range offs {
		b[o] ^= 1
	}
	os.WriteFile(path, b, 0o644)

	out, err = dump(t, path, "--verify")
	if !errors.Is(err, ErrVerify) {
		t.Fatalf("verify error %v", err)
	}
	noControl(t, out)
	if !strings.Contains(out, "BAD ramp: ") || !strings.Contains(out, `BAD "evil\x1b[2J\u009bname": `) || strings.Count(out, "BAD ") != 2 {
		t.Fatalf("output does not name both bad tensors:\n%s", out)
	}
	var stderr bytes.Buffer
	if code := Exit(&stderr, "mmbdump", err, DumpUsage()); code != 1 {
		t.Fatalf("exit %d", code)
	}
	msg := stderr.String()
	noControl(t, msg)
	if strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "mmbdump: verify failed: ") || !strings.Contains(msg, `2 of 7 tensors bad: "evil\x1b[2J\u009bname", ramp`) {
		t.Fatalf("error line %q", msg)
	}
	// revision 0 does not hold the corrupted ramp? it does (ramp is inherited): still bad
	if _, err := dump(t, path, "--verify", "--rev", "0"); !errors.Is(err, ErrVerify) {
		t.Fatalf("rev 0: %v", err)
	}
	// --json lists them
	out, _ = dump(t, path, "--verify", "--json")
	var res VerifyResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Bad) != 2 || res.Bad[0].Name != evilName {
		t.Fatalf("json %v %+v", err, res)
	}
}

func TestStats(t *testing.T) {
	path := makeFile(t)
	cases := []struct {
		name                  string
		rev                   string
		min, max, mean, std   float64
		nan, inf, finite, cnt int64
	}{
		// finite values 1, 2, 3, -5: mean 0.25, population variance 38.75/4
		{"w", "0", -5, 3, 0.25, math.Sqrt(38.75 / 4), 1, 1, 4, 6},
		// 0.5·(−16..15)
		{"q", "1", -8, 7.5, -0.25, 0.5 * math.Sqrt((32*32-1)/12.0), 0, 0, 32, 32},
		// 0..99999 spans two conversion chunks: mean 49999.5, variance (n²−1)/12
		{"ramp", "1", 0, 99999, 49999.5, math.Sqrt((1e10 - 1) / 12), 0, 0, 100000, 100000},
		{"w", "1", 0, 0, 0, 0, 0, 0, 6, 6},
	}
	for _, c := range cases {
		out, err := dump(t, path, "--tensor", c.name, "--stats", "--json", "--rev", c.rev)
		if err != nil {
			t.Fatal(err)
		}
		var s Stats
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatal(err)
		}
		near := func(got *float64, want float64) bool {
			return got != nil && math.Abs(*got-want) <= 1e-9*math.Max(1, math.Abs(want))
		}
		if !near(s.Min, c.min) || !near(s.Max, c.max) || !near(s.Mean, c.mean) || !near(s.Std, c.std) ||
			s.NaN != c.nan || s.Inf != c.inf || s.Finite != c.finite || s.Count != c.cnt {
			t.Errorf("%s rev %s: %s", c.name, c.rev, out)
		}
	}
	out, err := dump(t, path, "--tensor", "w", "--stats", "--rev", "0")
	if err != nil || !strings.Contains(out, "min:    -5\n") || !strings.Contains(out, "nan:    1\ninf:    1\n") {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := dump(t, path, "--tensor", "nope", "--stats"); !errors.Is(err, format.ErrNoTensor) {
		t.Fatalf("missing tensor: %v", err)
	}
}

func TestDiff(t *testing.T) {
	path := makeFile(t)
	out, err := dump(t, path, "--diff", "0", "1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"diff revision 0 -> 1: 1 added, 1 removed, 1 changed, 5 unchanged tensors\n",
		"+ tensor m F16 [2]\n", "- tensor e BF16 [2]\n", "~ tensor w (data): F32 [2, 3] -> F32 [2, 3]\n",
		"+ metrics loss = 0.5\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "metadata") || strings.Contains(out, "config") {
		t.Errorf("diff reports metadata/config changes that did not happen:\n%s", out)
	}
	out, err = dump(t, "--json", path, "--diff", "1", "0")
	if err != nil {
		t.Fatal(err)
	}
	var d RevDiff
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if d.From != 1 || d.To != 0 || len(d.Added) != 1 || d.Added[0].Name != "e" || len(d.Removed) != 1 || d.Removed[0].Name != "m" ||
		len(d.Changed) != 1 || d.Changed[0].From.Revision != 1 || d.Changed[0].To.Revision != 0 {
		t.Fatalf("%+v", d)
	}
	if _, err := dump(t, path, "--diff", "0", "7"); !errors.Is(err, format.ErrNoRevision) {
		t.Fatalf("bad revision: %v", err)
	}
}

func TestEdit(t *testing.T) {
	path := makeFile(t)
	before, _ := os.ReadFile(path)
	file, o, err := ParseEditArgs([]string{path, "--set", "general.name=renamed", "--set", "new.key=a=b",
		"--delete", "tokenizer.chat_template", "--set", "config.eos_token_ids=[2,9]", "--set", "config.rope.theta=500000"})
	if err != nil {
		t.Fatal(err)
	}
	o.Time = time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	n, err := Edit(file, o)
	if err != nil || n != 2 {
		t.Fatalf("edit: %d %v", n, err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(after[:len(before)], before) || len(after)-len(before) != format.Alignment {
		t.Fatalf("edit rewrote old bytes or appended %d bytes (a metadata-only revision fits in one page)", len(after)-len(before))
	}
	f, err := format.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r1, _ := f.Revision(1)
	r2 := f.Latest()
	if r2.Stage != "edit" || r2.Parent != 1 || !r2.Time.Equal(o.Time) {
		t.Fatalf("revision %+v", r2)
	}
	wantMeta := map[string]string{"general.name": "renamed", "new.key": "a=b"}
	if !reflect.DeepEqual(r2.Metadata, wantMeta) {
		t.Fatalf("metadata %v", r2.Metadata)
	}
	if !reflect.DeepEqual(r2.Config.EOSTokenIDs, []int{2, 9}) || r2.Config.Rope.Theta != 500000 || r2.Config.HiddenSize != 8 || r2.Config.Mamba == nil {
		t.Fatalf("config %+v", r2.Config)
	}
	if !reflect.DeepEqual(r1.Tensors, r2.Tensors) {
		t.Fatal("an edit changed the tensors")
	}
	if r1.Metadata["general.name"] != "tiny" {
		t.Fatal("the edit changed revision 1")
	}

	// mmbdump shows the new revision and the diff
	out, err := dump(t, path, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var d Description
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.Revision != 2 || len(d.Revisions) != 3 || d.Revisions[2].Stage != "edit" || d.Revisions[2].Written != 0 {
		t.Fatalf("%v %+v", err, d.Revisions)
	}
	out, err = dump(t, path, "--diff", "1", "2")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"0 added, 0 removed, 0 changed, 7 unchanged tensors",
		`~ metadata general.name: tiny -> renamed`, `+ metadata new.key = a=b`,
		`- metadata tokenizer.chat_template (was "{% for m in messages %}\n{{ m }}{% endfor %}")`,
		`~ config eos_token_ids: [2] -> [2, 9]`, `~ config rope.theta: 10000 -> 500000`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
}

func TestEditSetFile(t *testing.T) {
	path := makeFile(t)
	tmpl := filepath.Join(t.TempDir(), "t.jinja")
	os.WriteFile(tmpl, []byte("{{ bos_token }}\n"), 0o644)
	file, o, err := ParseEditArgs([]string{"--set-file", "tokenizer.chat_template=" + tmpl, path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Edit(file, o); err != nil {
		t.Fatal(err)
	}
	f, _ := format.Open(path)
	defer f.Close()
	if got := f.Latest().Metadata["tokenizer.chat_template"]; got != "{{ bos_token }}\n" || f.Latest().Metadata["general.name"] != "tiny" {
		t.Fatalf("metadata %v", f.Latest().Metadata)
	}
}

// TestEditErrors: a rejected edit leaves the file byte-for-byte unchanged.
func TestEditErrors(t *testing.T) {
	path := makeFile(t)
	before, _ := os.ReadFile(path)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--set", "config.eos_token_id=[2]"}, `unknown field "eos_token_id"`},
		{[]string{"--set", "config.num_layers=3"}, "2 layer kinds for 3 layers"},
		{[]string{"--set", "config.hidden_size=big"}, "cannot unmarshal"},
		{[]string{"--set", "config.rope.theta.x=1"}, "rope.theta is not an object"},
		{[]string{"--delete", "no.such.key"}, "no such metadata key"},
		{[]string{"--delete", "config.rope"}, "can be set, not deleted"},
	} {
		file, o, err := ParseEditArgs(append([]string{path}, c.args...))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Edit(file, o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
			t.Fatalf("%v: the failed edit changed the file", c.args)
		}
	}
}

func TestCommandLines(t *testing.T) {
	for _, c := range []struct {
		edit bool
		args []string
		code int
	}{
		{false, nil, 2},
		{false, []string{"a", "b"}, 2},
		{false, []string{"f", "--stats"}, 2},
		{false, []string{"f", "--diff", "1"}, 2},
		{false, []string{"f", "--diff", "x", "1"}, 2},
		{false, []string{"f", "--bogus"}, 2},
		{false, []string{"-h"}, 2},
		{true, []string{"f"}, 2},
		{true, []string{"f", "--set", "novalue"}, 2},
		{true, []string{"f", "--set", "=v"}, 2},
	} {
		var err error
		if c.edit {
			_, _, err = ParseEditArgs(c.args)
		} else {
			_, _, err = ParseDumpArgs(c.args)
		}
		var buf bytes.Buffer
		if code := Exit(&buf, "t", err, "USAGE"); code != c.code || !strings.Contains(buf.String(), "USAGE") {
			t.Errorf("%v: exit %d (%v), output %q", c.args, code, err, buf.String())
		}
	}
	p, o, err := ParseDumpArgs([]string{"--json", "m.mmb", "--diff", "0", "2", "--rev", "1"})
	if err != nil || p != "m.mmb" || !o.JSON || !o.Diff || o.DiffA != 0 || o.DiffB != 2 || o.Rev != 1 {
		t.Fatalf("%q %+v %v", p, o, err)
	}
	// a missing or bad file is one line and exit 1
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.mmb")
	os.WriteFile(bad, []byte("not a model file at all, long enough for the magic and the preamble check, yes"), 0o644)
	for _, path := range []string{filepath.Join(dir, "missing.mmb"), bad} {
		_, err := dump(t, path)
		var buf bytes.Buffer
		if code := Exit(&buf, "mmbdump", err, DumpUsage()); code != 1 || strings.Count(buf.String(), "\n") != 1 {
			t.Errorf("%s: exit %d %q", path, code, buf.String())
		}
	}
	_, err = dump(t, bad)
	if !errors.Is(err, format.ErrBadMagic) {
		t.Fatalf("bad file: %v", err)
	}
}
