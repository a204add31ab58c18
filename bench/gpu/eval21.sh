#!/usr/bin/env bash
# Session 7, last call: mmbbench (bandwidth, decode, prefill, long context;
# no profile) on the pure-attention and 100 % Mamba f16 models at the
# session's last commit, after the changes that came after final7b (the
# first early submission after 1 layer, which prefill passes take too).
# Log: $OUT/eval21.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "mamba:--keep-attention 0"
wait; cat $M/done
for m in attn mamba; do
  echo "== mmbbench $m $(el)"
  timeout 60 bin/mmbbench --backend vulkan $M/$m.mmb 2>&1 | grep -E '^mmbbench: (decode|prefill|bandwidth|error)|rror'
done
echo "== end $(el)"
} > $OUT/eval21.txt 2>&1
tail -c 3000 $OUT/eval21.txt
