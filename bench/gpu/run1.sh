#!/usr/bin/env bash
# First GPU call: Vulkan correctness on the H200 (conformance + HF fixtures),
# the 1B checkpoint made by transformers, its conversion (time, peak RSS),
# and first decode figures. Results go to $OUT.
set -u
. bench/gpu/env.sh
M=/tmp/m; mkdir -p $M
log() { echo "== $*"; }
rss() { python3 -c 'import resource,subprocess,sys,time
t=time.time(); r=subprocess.run(sys.argv[1:]); w=time.time()-t
print(f"wall {w:.2f}s peak_rss_mb {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024:.0f} rc {r.returncode}")' "$@"; }
{
log devices; nvidia-smi -L; bin/mmbrun --list-devices
log vulkan tests on the H200
(cd runtime/vulkan && ../../bin/vulkan.test -test.count=1 2>&1 | tail -25)
log make 1B checkpoints; python3 bench/gpu/make_models.py $M 2>&1 | tail -2; du -sh $M/*; ls $M/llama1b-bf16 | head -20
log hfconvert 1B bf16 sharded
rss bin/hfconvert --json $M/llama1b-bf16 $M/l1b-bf16.mmb
log hfconvert variants for speed runs
rss bin/hfconvert $M/llama1b-f16 $M/l1b-f16-attn.mmb
rss bin/hfconvert --keep-attention 0.5 $M/llama1b-f16 $M/l1b-f16-half.mmb
rss bin/hfconvert --keep-attention 0 $M/llama1b-f16 $M/l1b-f16-mamba.mmb
rss bin/hfconvert --dtype q8_0 $M/llama1b-f16 $M/l1b-q8-attn.mmb
ls -la $M/*.mmb
log gocoder demo on vulkan
bin/hfconvert testdata/models/gocoder-4m $M/gocoder.mmb
bin/mmbrun --backend vulkan -n 64 --temp 0 -p $'package main\n\nimport (\n\t"fmt"\n' $M/gocoder.mmb
log decode on 1B models, vulkan
P=$(python3 -c 'print(",".join(str(i*37%128000) for i in range(16)))')
for m in attn half mamba; do
  echo "-- $m"; bin/mmbrun --backend vulkan --prompt-ids $P -n 128 --temp 0 --ids $M/l1b-f16-$m.mmb 2>&1 >/dev/null | tail -1
done
echo "-- q8 attn"; bin/mmbrun --backend vulkan --prompt-ids $P -n 128 --temp 0 --ids $M/l1b-q8-attn.mmb 2>&1 >/dev/null | tail -1
if [ -x bin/mmbbench ]; then
  log mmbbench; for m in attn half mamba; do timeout 120 bin/mmbbench --json $M/l1b-f16-$m.mmb > $OUT/bench-$m.json 2>$OUT/bench-$m.err; tail -3 $OUT/bench-$m.err; done
fi
log HF baseline
timeout 300 python3 bench/gpu/hf_decode.py $M/llama1b-f16 2>&1 | tail -3
} > $OUT/run1.txt 2>&1
tail -c 6000 $OUT/run1.txt
