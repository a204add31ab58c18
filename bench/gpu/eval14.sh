#!/usr/bin/env bash
# Session 6, last call: mmbbench (bandwidth, decode, prefill, long context)
# on the four 1B models with everything of the session (early submissions
# every 4 layers now), and HF transformers on the same GPU and checkpoint.
# Log: $OUT/eval14.txt; JSON: $OUT/bench-*.json, $OUT/hf.json.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "half:--keep-attention 0.5" "mamba:--keep-attention 0" "attn-q8:--dtype q8_0"
wait; cat $M/done
for m in attn half mamba attn-q8; do
  echo "== mmbbench $m $(el)"
  timeout 60 bin/mmbbench --backend vulkan --json-out $OUT/bench-$m.json $M/$m.mmb 2>&1 | grep -E '^mmbbench: (decode|prefill|bandwidth|error)|rror'
done
echo "== HF transformers $(el)"
timeout 100 python3 bench/gpu/hf_decode.py $M/llama1b-f16 2>/dev/null | tail -1 | tee $OUT/hf.json
echo "== end $(el)"
} > $OUT/eval14.txt 2>&1
cat $OUT/eval14.txt | tail -c 5000
