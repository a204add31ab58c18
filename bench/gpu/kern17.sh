#!/usr/bin/env bash
# The MLP block with down's next round in flight (8 or 4 words per lane per
# round) and 16/32/64 features per workgroup, against the stages; mmbbench
# decode with the block at 32 (default) and 16 features and without (-1),
# interleaved; one decode profile. Log: $OUT/kern17.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "mamba:--keep-attention 0" "q8:--dtype q8_0"
echo "== vulkan tests (MLP block, fixtures) $(el)"
(cd runtime/vulkan && timeout 100 ../../bin/vulkan.test -test.count=1 -test.run 'MLPBlock|Fixture|Gocoder|Allocs' 2>&1 | grep -E -A6 '^(--- FAIL|FAIL|ok|PASS)|panic' | head -40)
echo "== kernels $(el)"
(cd runtime/vulkan && timeout 80 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLPBlock' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|SKIP|kernel_bench')
echo "== models $(el)"; wait; cat $M/done
mb() { timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }
for round in 1 2; do
  for m in attn q8 mamba; do
    for f in 0 -1 16; do
      echo "-- $m --mlp-features $f $(el)"; mb --mlp-features $f $M/$m.mmb
    done
  done
done
echo "== profile attn $(el)"
timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none --profile $M/attn.mmb 2>&1 | tail -25
echo "== end $(el)"
} > $OUT/kern17.txt 2>&1
cat $OUT/kern17.txt | tail -c 9000
