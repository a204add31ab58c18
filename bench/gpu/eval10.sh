#!/usr/bin/env bash
# Session 6, fourth call: as eval9.sh (decode with each fusion on and off in
# one process per model, BenchmarkDecodeKnobs) after three changes: the SSM
# block reads the state as coalesced 16-byte words, four in flight per
# invocation; the copy of h folds into the projection with the most
# workgroups (not a Mamba layer's 4-workgroup dt); Q8_0 blocks keep 4
# projection words in flight. Also the layer-head kernels. Log: $OUT/eval10.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "q8:--dtype q8_0" "half:--keep-attention 0.5" "mamba:--keep-attention 0"
echo "== tests on the H200 $(el)"
(cd runtime/vulkan && timeout 100 ../../bin/vulkan.test -test.count=1 -test.run 'TestSSMOut|TestAttentionOut$|TestDecodeStepNormFold|TestFixtures$' 2>&1 | grep -E '^(--- |FAIL|ok|PASS)|panic' | head -20)
echo "== layer heads $(el)"
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelLayerHead' -test.benchtime 3x -test.count 2 2>&1 | grep -E 'Benchmark|SKIP')
echo "== models $(el)"; wait; cat $M/done
for m in attn q8 half mamba; do
  echo "-- $m $(el)"
  (cd runtime/vulkan && MMB_DECODE_MODEL=$M/$m.mmb timeout 100 ../../bin/vulkan.test -test.run '^$' -test.bench DecodeKnobs -test.benchtime 1x 2>&1 | grep -E 'Benchmark|SKIP|FAIL|rror')
done
echo "== end $(el)"
} > $OUT/eval10.txt 2>&1
cat $OUT/eval10.txt | tail -c 9000
