#!/usr/bin/env bash
# Session 6, eighth call: decode with the early submissions every 1, 2 (the
# default), 4 and 8 layers and none (--submit-layers), interleaved, for the
# f16 models (the 50 % Mamba model decodes slower than the mean of the two
# pure ones). Log: $OUT/eval13.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "half:--keep-attention 0.5" "mamba:--keep-attention 0"
wait; cat $M/done
mb() { timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }
for round in 1 2; do
  for m in half mamba attn; do
    for s in 2 1 4 8 -1; do echo "-- $m submit $s $(el)"; mb --submit-layers $s $M/$m.mmb; done
  done
done
echo "== end $(el)"
} > $OUT/eval13.txt 2>&1
cat $OUT/eval13.txt | tail -c 6000
