#!/usr/bin/env bash
# The issue-6 figures in one device call: the 1B checkpoint made by
# transformers, converted by hfconvert (pure attention, 50% and 100% Mamba in
# f16, q8_0 attention), mmbbench on each (bandwidth, decode, prefill, long
# context, profile), and HF transformers on the same GPU and checkpoint, so
# the ratios come from one run. Also a plain copy of the checkpoint as the
# conversion baseline. Since session 7 also: decode with each greedy token read
# back by the host before the next step (--host-feed, the baseline of the
# device feed) and with the first early submission after 4 layers (the
# default before session 7's final7b; final7 and final7b ran "--submit-first
# 1" here, against the default of 4 then), and the
# in-process decode knobs (BenchmarkDecodeKnobs) on the f16 models.
# Log: $OUT/final.txt; JSON: $OUT/bench-*.json, $OUT/hf.json.
set -u
. bench/gpu/env.sh
M=/tmp/m; mkdir -p $M
PER=${PER:-85}
FLAGS=${FLAGS:-}
rss() { python3 -c 'import resource,subprocess,sys,time
t=time.time(); r=subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); w=time.time()-t
print(f"wall {w:.2f}s peak_rss_mb {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024:.0f} rc {r.returncode}")' "$@"; }
{
echo "== device $(el)"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; bin/mmbrun --list-devices
echo "== vulkan tests on the H200 $(el)"; (cd runtime/vulkan && timeout 300 ../../bin/vulkan.test -test.count=1 2>&1 | tail -6)
echo "== decode MLP block kernels $(el)"; (cd runtime/vulkan && timeout 60 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLPBlock/(f16|q8_0)/(stages|block32|block32-gateup-only|block32-down-only)$' -test.benchtime 3x 2>&1 | grep Benchmark)
echo "== checkpoint $(el)"; python3 bench/gpu/make_models.py $M 2>&1 | tail -1
echo "== plain copy of the bf16 checkpoint (conversion baseline) $(el)"
sync; t=$(date +%s.%N); cp -r $M/llama1b-bf16 $M/copy; sync; python3 -c "import sys;print(f'copy {2.4716/(float(sys.argv[2])-float(sys.argv[1])):.2f} GB/s')" $t $(date +%s.%N)
echo "== conversions $(el)"
for spec in "bf16:--json:llama1b-bf16" "attn::llama1b-f16" "half:--keep-attention 0.5:llama1b-f16" "mamba:--keep-attention 0:llama1b-f16" "attn-q8:--dtype q8_0:llama1b-f16"; do
  IFS=: read name fl src <<< "$spec"; echo "-- $name"; rss bin/hfconvert $fl $M/$src $M/$name.mmb
done
for m in attn half mamba attn-q8; do
  echo "== mmbbench $m $(el)"
  timeout $PER bin/mmbbench --backend vulkan --profile $FLAGS --json-out $OUT/bench-$m.json $M/$m.mmb 2>&1
  echo "rc $?"
done
for m in half mamba attn; do
  for f in "--host-feed" "" "--host-feed --submit-first 4"; do
    echo "-- $m ${f:-device feed} $(el)"; mb $f $M/$m.mmb
  done
done
for m in half mamba attn; do
  echo "== knobs $m $(el)"
  knobs $M/$m.mmb
done
echo "== HF transformers, same GPU and checkpoint $(el)"
timeout 150 python3 bench/gpu/hf_decode.py $M/llama1b-f16 2>/dev/null | tail -1 | tee $OUT/hf.json
echo "== done $(el)"
} > $OUT/final.txt 2>&1
tail -c 7000 $OUT/final.txt
