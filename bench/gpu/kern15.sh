#!/usr/bin/env bash
# matvec4 rows per workgroup (Backend.mvRPW; the default is 2 on 32-wide
# subgroups): the f16 decode matvecs and the MLP block. Log: $OUT/kern15.txt.
set -u
. bench/gpu/env.sh
{
cd runtime/vulkan
timeout 90 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMatvec/F16/(qo|up|down|head)_.*/matvec4(-rpw.)?$' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|FAIL'
timeout 60 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLP/f16_2048x8192/paired(-rpw.)?$' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|FAIL'
} > $OUT/kern15.txt 2>&1
cat $OUT/kern15.txt
