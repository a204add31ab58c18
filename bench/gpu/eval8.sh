#!/usr/bin/env bash
# Session 6, second call: main at the commit that added this script (bin/:
# the SSM block; the layers' input norms folded into their projections
# (MatMulNormed) and the MLP block's copy of h taken by one of them) against
# main at the end of session 5 (bin-base/mmbbench, built at c740bc3),
# decode interleaved; the layer-head kernels with the norm and copy folded
# and as dispatches of their own (-norm-copy); the new tests on the H200,
# then the vulkan tests under the validation layer (validate.sh).
# Log: $OUT/eval8.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "q8:--dtype q8_0" "half:--keep-attention 0.5" "mamba:--keep-attention 0"
echo "== layer heads $(el)"
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelLayerHead' -test.benchtime 3x -test.count 2 2>&1 | grep -E 'Benchmark|SKIP')
echo "== new tests on the H200 $(el)"
(cd runtime/vulkan && timeout 100 ../../bin/vulkan.test -test.count=1 -test.run 'TestMatMulNormed|TestDecodeStepNormFold|TestSSMOut|TestDecodeStepSSMBlock|TestFixtures$|TestGocoder$|TestDecodeAllocs' -test.v 2>&1 | grep -E '^(--- |FAIL|ok|PASS)|panic|layers:' | head -40)
echo "== models $(el)"; wait; cat $M/done
mb() { local bin=$1; shift; timeout 40 $bin --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }
for round in 1 2 3; do
  for m in attn q8 half mamba; do
    echo "-- $m new $(el)"; mb bin/mmbbench $M/$m.mmb
    echo "-- $m base $(el)"; mb bin-base/mmbbench $M/$m.mmb
  done
done
echo "== end $(el)"
} > $OUT/eval8.txt 2>&1
bash bench/gpu/validate.sh > /dev/null 2>&1
cat $OUT/eval8.txt | tail -c 9000
tail -c 2500 $OUT/validate.txt
