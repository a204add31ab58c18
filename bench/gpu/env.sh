# Sourced by the bench/gpu scripts on the GPU machine: the Vulkan loader and
# the EGL/GLVND libraries NVIDIA's ICD loads (carried in .gl/, see
# shared/GPU.md), and the GLVND vendor file when the image lacks it.
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ ! -f /usr/share/glvnd/egl_vendor.d/10_nvidia.json ]; then
  mkdir -p /usr/share/glvnd/egl_vendor.d
  echo '{"file_format_version":"1.0.0","ICD":{"library_path":"libEGL_nvidia.so.0"}}' > /usr/share/glvnd/egl_vendor.d/10_nvidia.json
fi

# el prints the seconds since the script began, for its log.
T0=$(date +%s); el() { echo "[$(( $(date +%s) - T0 ))s]"; }

# models DIR NAME:FLAGS... makes the 1B checkpoint in DIR (make_models.py)
# and converts its f16 copy with `hfconvert FLAGS` into DIR/NAME.mmb for
# each pair, in the background; `wait; cat DIR/done` before using them.
models() {
  local dir=$1; shift
  mkdir -p "$dir"
  (python3 bench/gpu/make_models.py "$dir" >/dev/null 2>&1
   for s in "$@"; do IFS=: read -r n f <<< "$s"; bin/hfconvert $f "$dir/llama1b-f16" "$dir/$n.mmb" >/dev/null 2>&1; done
   echo converted > "$dir/done") &
}

# knobs MODEL runs BenchmarkDecodeKnobs (in-process decode A/B) on MODEL and
# prints each variant's median tok/s.
knobs() {
  (cd runtime/vulkan && MMB_DECODE_MODEL=$1 timeout 90 ../../bin/vulkan.test -test.run '^$' -test.bench DecodeKnobs -test.benchtime 1x 2>&1 | grep -E 'Benchmark|FAIL|panic' | tr '\t' '\n' | grep -E 'tok/s|FAIL|panic')
}

# mb FLAGS... MODEL: mmbbench's decode figure alone.
mb() { timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }

# mr BINDIR MODEL FLAGS...: mmbrun's speed line for 256 tokens after a
# 16-token prompt (ids from the Llama 3 vocabulary), text discarded.
P16=128000,791,374,1097,10,358,1543,264,1296,315,279,1176,3446,13,578,4320
mr() { local d=$1 m=$2; shift 2; timeout 60 $d/mmbrun --backend vulkan --ids -n 256 --prompt-ids $P16 "$@" $m 2>&1 >/dev/null | grep -E 'mmbrun:|rror'; }
