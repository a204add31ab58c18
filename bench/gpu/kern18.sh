#!/usr/bin/env bash
# Two rows per subgroup (matvec4.comp ROW2; default for the lm_head) against
# one, per shape; the MLP block's down rounds for Q8_0; mmbbench decode of
# the f16 and q8_0 models with the lm_head on one and two rows per subgroup,
# interleaved. Log: $OUT/kern18.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "q8:--dtype q8_0"
echo "== vulkan tests (row pairs, MLP block, fixtures) $(el)"
(cd runtime/vulkan && timeout 100 ../../bin/vulkan.test -test.count=1 -test.run 'RowPairs|MLPBlock|Fixture|Gocoder|Allocs' 2>&1 | grep -E -A6 '^(--- FAIL|FAIL|ok|PASS)|panic' | head -40)
echo "== kernels $(el)"
(cd runtime/vulkan && timeout 120 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMatvec/(F16|Q8_0)/(qo|up|head)_.*/matvec4-row[12]$' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|SKIP|kernel_bench')
(cd runtime/vulkan && timeout 60 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLPBlock/q8_0/(stages|block32|block32-u8)$' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|SKIP|kernel_bench')
echo "== models $(el)"; wait; cat $M/done
mb() { timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }
for round in 1 2 3; do
  for m in attn q8; do
    for r in 0 -1; do
      echo "-- $m --matvec-row-pairs $r $(el)"; mb --matvec-row-pairs $r $M/$m.mmb
    done
  done
done
echo "== end $(el)"
} > $OUT/kern18.txt 2>&1
cat $OUT/kern18.txt | tail -c 9000
