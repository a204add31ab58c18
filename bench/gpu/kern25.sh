#!/usr/bin/env bash
# Session 5: the MLP block's walk over down's rows rotated per workgroup
# (-rotN: workgroup g starts at row g·N mod K), against the unrotated walk
# (block32, rot 0), also with the gate/up loads skipped (-down-only); then
# decode with the rotation (bin/, default 8 rows) against without
# (bin-base/mmbbench, the same commit with mlpRotate = 0), interleaved.
# Log: $OUT/kern25.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "q8:--dtype q8_0" "half:--keep-attention 0.5" "mamba:--keep-attention 0"
echo "== MLP block, rotated walks $(el)"
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLPBlock/.*/(stages|block32|block32-down-only|block32-rot.*)$' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|SKIP')
echo "== MLP block tests on the H200 $(el)"
(cd runtime/vulkan && timeout 100 ../../bin/vulkan.test -test.count=1 -test.run 'TestMLPBlock$|TestDecodeStepMLPBlock|TestFixtures$' 2>&1 | tail -3)
echo "== models $(el)"; wait; cat $M/done
mb() { local bin=$1; shift; timeout 40 $bin --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }
for round in 1 2; do
  for m in attn q8 half mamba; do
    echo "-- $m rot8 $(el)"; mb bin/mmbbench $M/$m.mmb
    echo "-- $m rot0 $(el)"; mb bin-base/mmbbench $M/$m.mmb
  done
done
echo "== end $(el)"
} > $OUT/kern25.txt 2>&1
cat $OUT/kern25.txt | tail -c 9000
