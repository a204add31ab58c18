#!/usr/bin/env bash
# Session 5, second call: main at the commit that added this script (bin/)
# against main before the session's decode changes (bin-base/mmbbench, built
# at e2c16ea: the attention block merged, MLP gate/up at 8 (f16) / 4 (q8_0)
# words, q/k rotation rows one after the other, the conv as its own stage),
# decode interleaved; the MLP block kernels; the conv-fold tests on the H200,
# then the vulkan tests under the validation layer (validate.sh).
# Log: $OUT/eval6.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "q8:--dtype q8_0" "half:--keep-attention 0.5" "mamba:--keep-attention 0"
echo "== MLP block kernels $(el)"
(cd runtime/vulkan && timeout 120 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLPBlock/.*/(stages|block32|block32-ua4|block32-ua8)$' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|SKIP')
echo "== conv fold and fixtures on the H200 $(el)"
(cd runtime/vulkan && timeout 100 ../../bin/vulkan.test -test.count=1 -test.run 'TestDecodeStepConvFold|TestFixtures$|TestGocoder$|TestDecodeAllocs' -test.v 2>&1 | grep -E '^(--- |FAIL|ok|PASS)|panic|Mamba layers' | head -30)
echo "== models $(el)"; wait; cat $M/done
mb() { local bin=$1; shift; timeout 40 $bin --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }
for round in 1 2 3; do
  for m in attn q8 half mamba; do
    echo "-- $m new $(el)"; mb bin/mmbbench $M/$m.mmb
    echo "-- $m base $(el)"; mb bin-base/mmbbench $M/$m.mmb
  done
done
echo "-- mamba contexts $(el)"; timeout 60 bin/mmbbench --backend vulkan --prefill none $M/mamba.mmb 2>&1 | grep -E '^mmbbench: (decode|error)|rror'
echo "== end $(el)"
} > $OUT/eval6.txt 2>&1
bash bench/gpu/validate.sh > /dev/null 2>&1
cat $OUT/eval6.txt | tail -c 8000
tail -c 3000 $OUT/validate.txt
