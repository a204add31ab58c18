package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mmbformat/mmb/format"
)

// ConfigPrefix marks --set keys that change the typed config instead of the
// free-form metadata: config.eos_token_ids=[2,32000], config.rope.theta=500000.
const ConfigPrefix = "config."

// EditOptions are mmbedit's changes, applied in order: sets, then deletes.
type EditOptions struct {
	Set    []KV
	Delete []string
	Time   time.Time // the revision's time; zero: now
}

// KV is one --set.
type KV struct{ Key, Value string }

const editUsage = `usage: mmbedit FILE --set KEY=VALUE ... [--set-file KEY=PATH ...] [--delete KEY ...]

Appends a metadata-only revision (stage "edit") and prints its number.
  --set KEY=VALUE      set a metadata key (e.g. tokenizer.chat_template)
  --set-file KEY=PATH  set a metadata key to a file's contents
  --delete KEY         remove a metadata key
Keys starting with "config." change the model config instead, by its JSON
name, dotted for nested fields; VALUE is JSON (a bare word is a string):
  --set config.eos_token_ids=[128001,128009]  --set config.rope.theta=500000
The changed config must still validate.
Exit status: 0 ok, 1 error, 2 bad command line.`

// EditUsage is mmbedit's help text.
func EditUsage() string { return editUsage }

type kvList struct {
	kvs      *[]KV
	fromFile bool
}

func (l kvList) String() string { return "" }

func (l kvList) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", s)
	}
	if l.fromFile {
		b, err := os.ReadFile(v)
		if err != nil {
			return err
		}
		v = string(b)
	}
	*l.kvs = append(*l.kvs, KV{k, v})
	return nil
}

type strList struct{ s *[]string }

func (l strList) String() string { return "" }
func (l strList) Set(s string) error {
	if s == "" {
		return errors.New("empty key")
	}
	*l.s = append(*l.s, s)
	return nil
}

// ParseEditArgs reads mmbedit's command line.
func ParseEditArgs(args []string) (string, EditOptions, error) {
	var o EditOptions
	fs := flag.NewFlagSet("mmbedit", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(kvList{kvs: &o.Set}, "set", "")
	fs.Var(kvList{kvs: &o.Set, fromFile: true}, "set-file", "")
	fs.Var(strList{&o.Delete}, "delete", "")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return "", o, err
	}
	if len(pos) != 1 {
		return "", o, usageErr(fmt.Sprintf("want one FILE, got %d arguments", len(pos)))
	}
	if len(o.Set) == 0 && len(o.Delete) == 0 {
		return "", o, usageErr("nothing to change: give --set or --delete")
	}
	return pos[0], o, nil
}

// Edit appends a metadata-only revision with the changes of o to the file
// at path and returns its number. On any error the file is left as it was
// (apart from a torn tail, which format.Append cuts off).
func Edit(path string, o EditOptions) (int, error) {
	w, err := format.Append(path)
	if err != nil {
		return 0, err
	}
	n, err := edit(w, o)
	if err != nil {
		w.Abort()
		return 0, fmt.Errorf("edit %s: %w", path, err)
	}
	return n, nil
}

func edit(w *format.Writer, o EditOptions) (int, error) {
	base := w.Base()
	meta := make(map[string]string, len(base.Metadata))
	for k, v := range base.Metadata {
		meta[k] = v
	}
	var cfg map[string]any // the config as JSON, once a config key is touched
	for _, kv := range o.Set {
		path, isConfig := strings.CutPrefix(kv.Key, ConfigPrefix)
		if !isConfig {
			meta[kv.Key] = kv.Value
			continue
		}
		if cfg == nil {
			if base.Config == nil {
				return 0, fmt.Errorf("set %s: revision %d has no config", kv.Key, base.Number)
			}
			b, err := json.Marshal(base.Config)
			if err != nil {
				return 0, fmt.Errorf("config of revision %d: %w", base.Number, err)
			}
			if err := json.Unmarshal(b, &cfg); err != nil {
				return 0, err
			}
		}
		if err := setPath(cfg, path, parseValue(kv.Value)); err != nil {
			return 0, fmt.Errorf("set %s: %w", kv.Key, err)
		}
	}
	for _, k := range o.Delete {
		if strings.HasPrefix(k, ConfigPrefix) {
			return 0, fmt.Errorf("delete %s: config fields can be set, not deleted", k)
		}
		if _, ok := meta[k]; !ok {
			return 0, fmt.Errorf("delete %s: revision %d has no such metadata key", format.Quote(k), base.Number)
		}
		delete(meta, k)
	}
	m := format.Meta{Stage: "edit", Time: o.Time, Metadata: meta}
	if m.Time.IsZero() {
		m.Time = time.Now().UTC()
	}
	if cfg != nil {
		b, _ := json.Marshal(cfg)
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields() // a misspelt key must fail, not vanish
		var c format.Config
		if err := dec.Decode(&c); err != nil {
			return 0, fmt.Errorf("config: %w", err)
		}
		if err := c.Validate(); err != nil {
			return 0, err
		}
		m.Config = &c
	}
	return w.Commit(m)
}

// parseValue reads VALUE as JSON when it is JSON, else as a string.
func parseValue(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err == nil {
		return v
	}
	return s
}

// setPath sets a dotted key in a JSON object.
func setPath(m map[string]any, path string, v any) error {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		if p == "" {
			return fmt.Errorf("empty key component in %q", path)
		}
		if i == len(parts)-1 {
			m[p] = v
			return nil
		}
		next, ok := m[p].(map[string]any)
		if !ok {
			if m[p] != nil {
				return fmt.Errorf("%s is not an object", strings.Join(parts[:i+1], "."))
			}
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	return nil
}
