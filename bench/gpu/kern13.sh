#!/usr/bin/env bash
# Where a decode stage's time goes: the dispatch floor with and without a
# dependency, and the f16 matvecs with a barrier after each (as in a decode
# step) against the same matvecs streaming back to back. Log: $OUT/kern13.txt.
set -u
. bench/gpu/env.sh
{
cd runtime/vulkan
timeout 120 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelDispatch|KernelMatvecStream|KernelMatvec/F16/(qo|up|down)_.*/matvec4$|KernelAttentionDecode' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|FAIL|ok'
} > $OUT/kern13.txt 2>&1
cat $OUT/kern13.txt
