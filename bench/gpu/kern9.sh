#!/usr/bin/env bash
# GQA-grouped decode attention: the vulkan tests on the H200, the decode
# attention kernels (grouped vs split), and mmbbench decode at 1k/8k/32k
# context for the pure-attention and 50 % Mamba 1B models. Log: $OUT/kern9.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "half:--keep-attention 0.5"
echo "== vulkan tests $(el)"
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.count=1 -test.run 'Conformance|Fixtures|Attention|DecodeStep|DecodeAllocs|Gocoder' 2>&1 | tail -3)
echo "== kernels $(el)"
(cd runtime/vulkan && timeout 90 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelAttentionDecode' -test.benchtime 3x 2>&1 | grep Benchmark)
echo "== models $(el)"; wait; cat $M/done
for m in attn half; do
  echo "== mmbbench $m $(el)"
  timeout 90 bin/mmbbench --backend vulkan --prefill none --contexts 1k,8k,32k $M/$m.mmb 2>&1 | grep '^mmbbench: decode'
done
echo "== end $(el)"
} > $OUT/kern9.txt 2>&1
cat $OUT/kern9.txt | tail -c 8000
