#!/usr/bin/env bash
# BRANCH exp/attn-o, not yet run: the attention block (attention, o_proj and
# the residual add in one dispatch for contexts ≤ 256; Backend.AttentionOut)
# on the H200: its tests, then mmbbench decode of the 1B models with it and
# without (--no-attn-block), interleaved. Log: $OUT/kern22.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "q8:--dtype q8_0" "half:--keep-attention 0.5"
echo "== vulkan tests (attention block, MLP block, fixtures) $(el)"
(cd runtime/vulkan && timeout 100 ../../bin/vulkan.test -test.count=1 -test.run 'AttentionOut|AttnBlock|MLPBlock|Fixture|Gocoder|Allocs' 2>&1 | grep -E -A6 '^(--- FAIL|FAIL|ok|PASS)|panic' | head -40)
echo "== models $(el)"; wait; cat $M/done
mb() { timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }
for round in 1 2; do
  for m in attn q8 half; do
    for f in "" "--no-attn-block"; do
      echo "-- $m $f $(el)"; mb $f $M/$m.mmb
    done
  done
done
echo "== end $(el)"
} > $OUT/kern22.txt 2>&1
cat $OUT/kern22.txt | tail -c 9000
