#!/usr/bin/env bash
# Session-2 fourth device call: Q8_0 prefill on the matrix units (coopmm2_q8):
# the cooperative-matrix tests, the matmul kernels for f16 and q8_0, and
# mmbbench of the q8_0 1B model. Log: $OUT/kern6.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn-q8:--dtype q8_0"
echo "== vulkan tests $(el)"
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.count=1 -test.v 2>&1 | grep -E '^(--- |FAIL|ok|PASS)|coopmat_test|panic' | grep -v -- '--- PASS: TestConformance.*/\|--- PASS: TestCoop.*/' | head -60)
echo "== kernel benchmarks $(el)"
(cd runtime/vulkan && timeout 120 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMatmul' -test.benchtime 3x 2>&1 | grep Benchmark)
echo "== models $(el)"; wait; cat $M/done
timeout 90 bin/mmbbench --backend vulkan --profile $M/attn-q8.mmb 2>&1 | grep -v '^backend\|^bandwidth'
echo "== end $(el)"
} > $OUT/kern6.txt 2>&1
grep -E 'µs/call|TFLOP|tok/s|^(--- |ok|FAIL|PASS)|^==|panic|coopmat_test' $OUT/kern6.txt | sed -e 's/  */ /g' | tail -c 8000
