#!/usr/bin/env bash
# RECORD: ran at a762029; the -tiled knob was removed after it (a tiled down
# bought 1.5–2.5 µs per layer, bench/RESULTS.md).
# Session 5, last call: the MLP block with down read as if tiled per
# workgroup ([N/32][K][32], -tiled; timing only, the weights are random and
# never stored so), with and without the rotated walk, whole block and down
# alone. Log: $OUT/kern26.txt.
set -u
. bench/gpu/env.sh
{
echo "== MLP block, tiled down $(el)"
for pass in 1 2; do
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLPBlock/.*/(block32|block32-down-only|block32-rot8|block32-rot8-down-only|block32-.*tiled.*)$' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|SKIP')
done
echo "== end $(el)"
} > $OUT/kern26.txt 2>&1
cat $OUT/kern26.txt
