// Package build lists the shader variants and compiles them with glslc; it
// is shared by the generator (shaders/gen) and the up-to-date test, and has
// no embedded files so that it works before any SPIR-V exists.
package build

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Variant is one compiled shader: a GLSL source and the macros it is built with.
type Variant struct {
	Name    string   // spv/<Name>.spv
	Source  string   // glsl/<Source>
	Defines []string // -D arguments
}

// weightDTypes name the matvec/matmul variants; the values are format.DType codes.
var weightDTypes = []struct{ suffix, code string }{{"f32", "1u"}, {"f16", "2u"}, {"bf16", "3u"}, {"q8", "4u"}}

// Variants lists every shader the Vulkan backend loads.
var Variants = func() []Variant {
	var v []Variant
	for _, d := range weightDTypes {
		v = append(v,
			Variant{"matvec_" + d.suffix, "matvec.comp", []string{"WDT=" + d.code}},
			Variant{"matvec_" + d.suffix + "_sg", "matvec.comp", []string{"WDT=" + d.code, "SUBGROUP"}},
			Variant{"matmul_" + d.suffix, "matmul.comp", []string{"WDT=" + d.code}},
			Variant{"matvec4_" + d.suffix, "matvec4.comp", []string{"WDT=" + d.code, "W_" + d.suffix}},
			Variant{"matvec4n_" + d.suffix, "matvec4.comp", []string{"WDT=" + d.code, "W_" + d.suffix, "NORM"}},
			Variant{"matvec4np_" + d.suffix, "matvec4.comp", []string{"WDT=" + d.code, "W_" + d.suffix, "NORM", "ROPE"}},
			Variant{"matvec4nc_" + d.suffix, "matvec4.comp", []string{"WDT=" + d.code, "W_" + d.suffix, "NORM", "CONV"}},
			Variant{"matvec4s_" + d.suffix, "matvec4.comp", []string{"WDT=" + d.code, "W_" + d.suffix, "SWIGLU"}},
			Variant{"matvec4r_" + d.suffix, "matvec4.comp", []string{"WDT=" + d.code, "W_" + d.suffix, "RESID"}},
			Variant{"matvec4sr_" + d.suffix, "matvec4.comp", []string{"WDT=" + d.code, "W_" + d.suffix, "SWIGLU", "RESID"}})
	}
	for _, d := range weightDTypes { // the paired gate/up matvec
		v = append(v,
			Variant{"matvec4g_" + d.suffix, "matvec4.comp", []string{"WDT=" + d.code, "W_" + d.suffix, "PAIR"}},
			Variant{"matvec4ng_" + d.suffix, "matvec4.comp", []string{"WDT=" + d.code, "W_" + d.suffix, "NORM", "PAIR"}})
	}
	for _, d := range weightDTypes { // the MLP block in one dispatch, the residual matvec that feeds it, two rows per subgroup
		v = append(v,
			Variant{"matvec4rc_" + d.suffix, "matvec4.comp", []string{"WDT=" + d.code, "W_" + d.suffix, "RESID", "SNAP"}},
			Variant{"mlp_" + d.suffix, "matvec4.comp", []string{"WDT=" + d.code, "W_" + d.suffix, "NORM", "PAIR", "MLP"}},
			Variant{"matvec4w_" + d.suffix, "matvec4.comp", []string{"WDT=" + d.code, "W_" + d.suffix, "ROW2"}},
			Variant{"attno_" + d.suffix, "attndec.comp", []string{"W_" + d.suffix, "OPROJ"}},
			Variant{"ssmo_" + d.suffix, "ssmo.comp", []string{"W_" + d.suffix}})
	}
	for _, d := range weightDTypes[1:3] { // f16, bf16
		v = append(v, Variant{"matmul2_" + d.suffix, "matmul2.comp", []string{"W_" + d.suffix}})
	}
	v = append(v, Variant{"rmsnorm_sg", "rmsnorm.comp", []string{"SUBGROUP"}},
		Variant{"coopmm2_n128", "coopmm2.comp", []string{"TN=4u"}}, Variant{"coopmm2_n64", "coopmm2.comp", []string{"TN=2u"}},
		Variant{"coopmm2_q8_n128", "coopmm2.comp", []string{"TN=4u", "W_q8"}}, Variant{"coopmm2_q8_n64", "coopmm2.comp", []string{"TN=2u", "W_q8"}},
		Variant{"attncm", "attncm.comp", nil}, Variant{"attncm128", "attncm.comp", []string{"HD=128u"}},
		Variant{"tof16", "tof16.comp", nil}, Variant{"copyf", "add.comp", []string{"COPY"}},
		Variant{"embedf", "embed.comp", []string{"FED"}}, Variant{"topk", "topk.comp", nil})
	for _, s := range []string{"embed", "rmsnorm", "add", "swiglu", "rope", "attention", "conv1d", "ssmscan", "gatednorm", "argmax", "attndec", "attndecg", "attncomb", "argmaxpart", "argmaxmerge", "attnprefill", "ssmchunk_local", "ssmchunk_pass", "ssmchunk_out"} {
		v = append(v, Variant{s, s + ".comp", nil})
	}
	return v
}()

// Args are glslc's arguments for v, reading sources from dir/glsl. Without
// -g the output holds no paths, so it is the same wherever it is built.
func (v Variant) Args(dir, out string) []string {
	a := []string{"--target-env=vulkan1.1", "-O", "-fshader-stage=compute"}
	for _, d := range v.Defines {
		a = append(a, "-D"+d)
	}
	return append(a, "-o", out, filepath.Join(dir, "glsl", v.Source))
}

// Compile runs glslc on v with sources under dir and returns the SPIR-V.
func Compile(glslc, dir string, v Variant) ([]byte, error) {
	tmp, err := os.CreateTemp("", "mmb-*.spv")
	if err != nil {
		return nil, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.Command(glslc, v.Args(dir, tmp.Name())...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("glslc %s: %v\n%s", v.Name, err, out)
	}
	return os.ReadFile(tmp.Name())
}
