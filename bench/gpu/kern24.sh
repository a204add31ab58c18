#!/usr/bin/env bash
# RECORD: ran on a build of main at e2c16ea with the -dt and -na knobs in the
# working tree (spec constants 8 and 9, never committed: reverted after this
# run); -dt is kern26.sh's -tiled at a762029, also removed since.
# Session 5: the MLP block's down columns read from a tiled layout (-dt:
# [N/FPW][K][FPW], each workgroup's columns one contiguous run), with fewer
# gate/up registers (-ua2), other down rounds (-u4/-u16), and with plain
# stores for the atomics (-na, timing only: wrong sums), against the
# default block and the stages. Log: $OUT/kern24.txt.
set -u
. bench/gpu/env.sh
{
echo "== MLP block variants $(el)"
(cd runtime/vulkan && timeout 300 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLPBlock/.*/(stages|block32.*)$' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|SKIP')
(cd runtime/vulkan && timeout 300 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLPBlock/.*/(stages|block32|block32-dt|block32-dt-ua2|block32-ua2)$' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|SKIP')
echo "== end $(el)"
} > $OUT/kern24.txt 2>&1
cat $OUT/kern24.txt
