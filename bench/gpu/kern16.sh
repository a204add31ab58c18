#!/usr/bin/env bash
# The one-dispatch decode MLP block (Backend.MLP, matvec4.comp MLP) on the
# H200: the vulkan tests (the block is on by default, so the fixture and
# gocoder decodes use it), the layer-tail kernels (o_proj + residual + MLP)
# as stages against the block with 32 and 64 features per workgroup, and
# mmbbench decode of the 1B models with the block (32, 64) and without
# (-1), interleaved. Log: $OUT/kern16.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "half:--keep-attention 0.5" "mamba:--keep-attention 0" "q8:--dtype q8_0"
echo "== vulkan tests $(el)"
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.count=1 2>&1 | grep -E -A6 '^(--- FAIL|FAIL|ok|PASS)|panic' | head -40)
echo "== kernels $(el)"
(cd runtime/vulkan && timeout 60 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLPBlock' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|SKIP|kernel_bench')
echo "== models $(el)"; wait; cat $M/done
mb() { timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }
for round in 1 2; do
  for m in attn q8 half mamba; do
    for f in 0 -1 64; do
      echo "-- $m --mlp-features $f $(el)"; mb --mlp-features $f $M/$m.mmb
    done
  done
done
echo "== end $(el)"
} > $OUT/kern16.txt 2>&1
cat $OUT/kern16.txt | tail -c 9000
