package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmbformat/mmb/convert"
)

// convertFixture converts an HF checkpoint folder in-process: Transformers
// with --keep-attention 1, hybrids as they are.
func convertFixture(t *testing.T, dir string) string {
	t.Helper()
	o := convert.Options{Input: dir, Output: filepath.Join(t.TempDir(), "m.mmb")}
	if _, err := os.Stat(filepath.Join(dir, "mamba_config.json")); err != nil {
		o.KeepAttention = convert.Keep(1)
	}
	return convertWith(t, o)
}

func convertWith(t *testing.T, o convert.Options) string {
	t.Helper()
	if o.Output == "" {
		o.Output = filepath.Join(t.TempDir(), "m.mmb")
	}
	if _, err := convert.Convert(context.Background(), o); err != nil {
		t.Fatalf("convert %s: %v", o.Input, err)
	}
	return o.Output
}
