#!/usr/bin/env bash
# Session-2 kernel work on the H200, first device call: the vulkan tests there
# (the cooperative-matrix tests run only on a device that has
# VK_NV_cooperative_matrix), kernel benchmarks (coopmm vs matmul2, attncm vs
# attnprefill, paired vs unpaired MLP matvecs, one-pass vs split decode
# attention), then a quick mmbbench of the 1B models (prefill 4096 with 512-
# and 2048-row chunks). Everything goes to $OUT/kern3.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
echo "== device $(el)"; bin/mmbrun --list-devices
models $M "attn:" "half:--keep-attention 0.5" "mamba:--keep-attention 0" "attn-q8:--dtype q8_0"
echo "== vulkan tests $(el)"
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.count=1 -test.v 2>&1 | grep -E '^(--- |FAIL|ok|PASS)|coopmat_test|ssmchunk|fuse_test|panic' | grep -v -- '--- PASS: TestConformance.*/' | head -80)
echo "== kernel benchmarks $(el)"
(cd runtime/vulkan && timeout ${KB:-150} ../../bin/vulkan.test -test.run '^$' -test.bench "${BENCH:-Kernel(Matmul|AttentionPrefill|MLP|AttentionDecode|SSMScan)}" -test.benchtime 3x 2>&1 | grep -v '^goos\|^goarch\|^pkg\|^cpu')
echo "== models $(el)"; wait; cat $M/done
for s in "attn:--prefill 512,4k --contexts 1k" "attn:--prefill 4k --contexts none --chunk 2048" "half:--prefill 4k --contexts 1k" "mamba:--prefill 4k --contexts 1k --chunk 2048" "attn-q8:--prefill none --contexts none"; do
  IFS=: read m f <<< "$s"
  echo "== mmbbench $m $f $(el)"
  timeout 60 bin/mmbbench --backend vulkan --profile --reps 1 $f $M/$m.mmb 2>&1 | grep -v '^mmbbench: vulkan on\|^mmbbench: bandwidth\|^backend\|^bandwidth'
  echo "rc $?"
done
echo "== end $(el)"
} > $OUT/kern3.txt 2>&1
grep -E 'µs/call|µs/block|TFLOP|tok/s|^(--- |ok|FAIL|PASS)|^==|rc |panic|coopmat_test|ssmchunk' $OUT/kern3.txt | sed -e 's/  */ /g' | tail -c 11000
