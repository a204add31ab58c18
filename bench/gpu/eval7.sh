#!/usr/bin/env bash
# Session 6, first call: main at the commit that added this script (bin/:
# the SSM block, the attention block's projection with 8 words per lane in
# flight) against main at the end of session 5 (bin-base/mmbbench, built at
# c740bc3), decode interleaved, and bin/ with --no-ssm-block; the layer-head
# kernels (BenchmarkKernelLayerHead: the price of the RMSNorm and copy
# dispatches in a stage, the SSM block against its three stages); the SSM
# block's tests on the H200, then the vulkan tests under the validation
# layer (validate.sh). Log: $OUT/eval7.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "q8:--dtype q8_0" "half:--keep-attention 0.5" "mamba:--keep-attention 0"
echo "== layer heads $(el)"
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelLayerHead' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|SKIP')
echo "== SSM block tests on the H200 $(el)"
(cd runtime/vulkan && timeout 100 ../../bin/vulkan.test -test.count=1 -test.run 'TestSSMOut|TestDecodeStepSSMBlock|TestAttentionOut$|TestDecodeStepAttnBlock|TestFixtures$|TestDecodeAllocs' -test.v 2>&1 | grep -E '^(--- |    --- |FAIL|ok|PASS)|panic|Mamba layers' | head -60)
echo "== models $(el)"; wait; cat $M/done
mb() { local bin=$1; shift; timeout 40 $bin --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }
for round in 1 2; do
  for m in attn q8 half mamba; do
    echo "-- $m new $(el)"; mb bin/mmbbench $M/$m.mmb
    echo "-- $m base $(el)"; mb bin-base/mmbbench $M/$m.mmb
    case $m in half|mamba) echo "-- $m new --no-ssm-block $(el)"; mb bin/mmbbench --no-ssm-block $M/$m.mmb;; esac
  done
done
echo "== end $(el)"
} > $OUT/eval7.txt 2>&1
bash bench/gpu/validate.sh > /dev/null 2>&1
cat $OUT/eval7.txt | tail -c 9000
tail -c 2500 $OUT/validate.txt
