#!/usr/bin/env bash
# Session-2 third device call: capped (grid-stride) matvec launches and the
# Q8_0 matvec with 4 words per lane; decode of the 1B models. Log: $OUT/kern5.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
echo "== device $(el)"; bin/mmbrun --list-devices
models $M "attn:" "half:--keep-attention 0.5" "mamba:--keep-attention 0" "attn-q8:--dtype q8_0"
echo "== vulkan tests $(el)"
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.count=1 -test.v 2>&1 | grep -E '^(--- |FAIL|ok|PASS)|coopmat_test|panic' | grep -v -- '--- PASS: TestConformance.*/\|--- PASS: TestCoop.*/' | head -60)
echo "== kernel benchmarks $(el)"
(cd runtime/vulkan && timeout ${KB:-200} ../../bin/vulkan.test -test.run '^$' -test.bench "${BENCH:-Kernel(Matvec|MLP)}" -test.benchtime 3x 2>&1 | grep -v '^goos\|^goarch\|^pkg\|^cpu')
echo "== models $(el)"; wait; cat $M/done
for s in "attn:--prefill none --contexts none" "attn-q8:--prefill none --contexts none" "mamba:--prefill none --contexts none"; do
  IFS=: read m f <<< "$s"
  echo "== mmbbench $m $f $(el)"
  timeout 60 bin/mmbbench --backend vulkan --profile --reps 3 $f $M/$m.mmb 2>&1 | grep -v '^mmbbench: vulkan on\|^mmbbench: bandwidth\|^backend\|^bandwidth'
  echo "rc $?"
done
echo "== end $(el)"
} > $OUT/kern5.txt 2>&1
grep -E 'µs/call|µs/block|TFLOP|GB/s|tok/s|^(--- |ok|FAIL|PASS)|^==|rc |panic|coopmat_test' $OUT/kern5.txt | grep -v 'of-copy-bw.*word' | sed -e 's/  */ /g' | tail -c 11000
