#!/usr/bin/env bash
# Session-2 second device call: vulkan tests on the H200, the shared-memory
# cooperative-matrix matmul (coopmm2) against coopmm/matmul2, capped
# (grid-stride) matvec launches, then mmbbench decode with and without early
# submission and prefill 4096 of the 1B models. Log: $OUT/kern4.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
echo "== device $(el)"; bin/mmbrun --list-devices
models $M "attn:" "half:--keep-attention 0.5" "mamba:--keep-attention 0" "attn-q8:--dtype q8_0"
echo "== vulkan tests $(el)"
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.count=1 -test.v 2>&1 | grep -E '^(--- |FAIL|ok|PASS)|coopmat_test|panic' | grep -v -- '--- PASS: TestConformance.*/\|--- PASS: TestCoop.*/' | head -60)
echo "== kernel benchmarks $(el)"
(cd runtime/vulkan && timeout ${KB:-200} ../../bin/vulkan.test -test.run '^$' -test.bench "${BENCH:-Kernel(Matmul|MLP|Matvec/F16)}" -test.benchtime 3x 2>&1 | grep -v '^goos\|^goarch\|^pkg\|^cpu')
echo "== models $(el)"; wait; cat $M/done
for s in "attn:--prefill 4k --contexts none" "attn:--prefill none --contexts none --submit-layers -1" "attn:--prefill none --contexts none --submit-layers 1" "half:--prefill 4k --contexts none" "mamba:--prefill 4k --contexts none" "attn-q8:--prefill none --contexts none"; do
  IFS=: read m f <<< "$s"
  echo "== mmbbench $m $f $(el)"
  timeout 60 bin/mmbbench --backend vulkan --profile --reps 3 $f $M/$m.mmb 2>&1 | grep -v '^mmbbench: vulkan on\|^mmbbench: bandwidth\|^backend\|^bandwidth'
  echo "rc $?"
done
echo "== end $(el)"
} > $OUT/kern4.txt 2>&1
grep -E 'µs/call|µs/block|TFLOP|GB/s|tok/s|^(--- |ok|FAIL|PASS)|^==|rc |panic|coopmat_test' $OUT/kern4.txt | grep -v 'of-copy-bw.*word' | sed -e 's/  */ /g' | tail -c 11000
