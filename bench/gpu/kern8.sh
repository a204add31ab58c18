#!/usr/bin/env bash
# Early-submission granularity: mmbbench decode of the 1B attention model
# (f16) with --submit-layers -1 (off), 1, 2, 3, 4, 8, twice each, interleaved
# (the machine is noisy). Log: $OUT/kern8.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:"; wait
for rep in 1 2; do
  for k in -1 1 2 3 4 8; do
    echo "submit-layers $k: $(timeout 60 bin/mmbbench --backend vulkan --prefill none --contexts none --submit-layers $k $M/attn.mmb 2>&1 | grep '^mmbbench: decode')"
  done
done
} > $OUT/kern8.txt 2>&1
cat $OUT/kern8.txt
