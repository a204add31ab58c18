#!/usr/bin/env bash
# Session 6, fifth call: as eval10.sh (decode with each fusion on and off in
# one process per model, BenchmarkDecodeKnobs) after: the SSM block copies h
# with a dispatch of its own again (eval9/eval10: folding the copy into a
# Mamba layer's projection made decode slower); the MLP block loads each
# subgroup's first gate/up round before staging x·g, and stages x·g with two
# loads in flight (variant mlp-no-prefetch: the first round after the
# staging). Also the MLP block kernels. Log: $OUT/eval11.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "q8:--dtype q8_0" "half:--keep-attention 0.5" "mamba:--keep-attention 0"
echo "== tests on the H200 $(el)"
(cd runtime/vulkan && timeout 100 ../../bin/vulkan.test -test.count=1 -test.run 'TestSSMOut|TestMLPBlock$|TestDecodeStepMLPBlock$|TestDecodeStepNormFold|TestFixtures$' 2>&1 | grep -E '^(--- |FAIL|ok|PASS)|panic' | head -20)
echo "== MLP block kernels $(el)"
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLPBlock/.*/(stages|block32)$' -test.benchtime 3x -test.count 2 2>&1 | grep -E 'Benchmark|SKIP')
echo "== models $(el)"; wait; cat $M/done
for m in attn q8 half mamba; do
  echo "-- $m $(el)"
  (cd runtime/vulkan && MMB_DECODE_MODEL=$M/$m.mmb timeout 100 ../../bin/vulkan.test -test.run '^$' -test.bench DecodeKnobs -test.benchtime 1x 2>&1 | grep -E 'Benchmark|SKIP|FAIL|rror')
done
echo "== end $(el)"
} > $OUT/eval11.txt 2>&1
cat $OUT/eval11.txt | tail -c 9000
