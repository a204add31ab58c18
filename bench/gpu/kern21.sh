#!/usr/bin/env bash
# RECORD ONLY: the streamed gate/up rounds it measured were slower and were
# reverted (figures in bench/RESULTS.md); the binary it ran was built at
# the commit that added this script.
# The MLP block with gate and up as a stream of rounds (the next loaded
# before the current is used), x·g in shared memory,
# against the stages; mmbbench decode with and without the block,
# interleaved. Log: $OUT/kern21.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "q8:--dtype q8_0" "mamba:--keep-attention 0"
echo "== vulkan tests (MLP block, fixtures) $(el)"
(cd runtime/vulkan && timeout 100 ../../bin/vulkan.test -test.count=1 -test.run 'MLPBlock|Fixture|Gocoder|Allocs' 2>&1 | grep -E -A6 '^(--- FAIL|FAIL|ok|PASS)|panic' | head -40)
echo "== kernels $(el)"
(cd runtime/vulkan && timeout 80 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLPBlock/.*/(stages|block16|block32|block64|block32-late)$' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|SKIP|kernel_bench')
echo "== models $(el)"; wait; cat $M/done
mb() { timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }
for round in 1 2; do
  for m in attn q8 mamba; do
    for f in 0 -1; do
      echo "-- $m --mlp-features $f $(el)"; mb --mlp-features $f $M/$m.mmb
    done
  done
done
echo "== end $(el)"
} > $OUT/kern21.txt 2>&1
cat $OUT/kern21.txt | tail -c 9000
