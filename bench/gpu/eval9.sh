#!/usr/bin/env bash
# Session 6, third call: decode tokens/s with each decode fusion on and off,
# interleaved in one process per model (BenchmarkDecodeKnobs: the SSM block,
# the folded input norm and copy of h, the attention block, the blocks'
# projection words in flight), for the four 1B-shaped models; then the SSM
# block's and the attention block's tests on the H200 with the words in
# flight as a specialisation constant. Log: $OUT/eval9.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "q8:--dtype q8_0" "half:--keep-attention 0.5" "mamba:--keep-attention 0"
echo "== tests on the H200 $(el)"
(cd runtime/vulkan && timeout 100 ../../bin/vulkan.test -test.count=1 -test.run 'TestSSMOut|TestAttentionOut$|TestDecodeStepNormFold|TestFixtures$' 2>&1 | grep -E '^(--- |FAIL|ok|PASS)|panic' | head -20)
echo "== models $(el)"; wait; cat $M/done
for m in attn q8 half mamba; do
  echo "-- $m $(el)"
  (cd runtime/vulkan && MMB_DECODE_MODEL=$M/$m.mmb timeout 100 ../../bin/vulkan.test -test.run '^$' -test.bench DecodeKnobs -test.benchtime 1x 2>&1 | grep -E 'Benchmark|SKIP|FAIL|rror')
done
echo "== end $(el)"
} > $OUT/eval9.txt 2>&1
cat $OUT/eval9.txt | tail -c 9000
