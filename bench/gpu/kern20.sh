#!/usr/bin/env bash
# RECORD ONLY: the workgroup-width and late-prefetch variants it measured
# (no gain, bench/RESULTS.md) were removed afterwards.
# Shapes of the MLP block dispatch: workgroup width (128/256/512), features
# per workgroup, down's first round before or after gate and up.
# Log: $OUT/kern20.txt.
set -u
. bench/gpu/env.sh
{
echo "== vulkan tests (MLP block) $(el)"
(cd runtime/vulkan && timeout 100 ../../bin/vulkan.test -test.count=1 -test.run 'MLPBlock' 2>&1 | grep -E -A6 '^(--- FAIL|FAIL|ok|PASS)|panic' | head -40)
echo "== kernels $(el)"
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLPBlock' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|SKIP|kernel_bench')
echo "== end $(el)"
} > $OUT/kern20.txt 2>&1
cat $OUT/kern20.txt | tail -c 9000
