#!/usr/bin/env bash
# RECORD ONLY: the fused MLP block was removed after this run (figures in
# bench/RESULTS.md); --no-fused-mlp no longer exists.
# The fused decode MLP block (mlpfused.comp) on the H200: the vulkan tests
# (it is on by default, so the fixture and gocoder decodes use it), the MLP
# block kernels fused against paired, and mmbbench decode of the f16 1B
# models with and without it, interleaved. Log: $OUT/kern14.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "half:--keep-attention 0.5" "mamba:--keep-attention 0"
echo "== vulkan tests $(el)"
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.count=1 2>&1 | grep -E -A6 '^(--- FAIL|FAIL|ok|PASS)|panic' | head -40)
echo "== kernels $(el)"
(cd runtime/vulkan && timeout 60 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLP/f16_2048x8192/(paired|fused)$' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|SKIP|kernel_bench')
echo "== models $(el)"; wait; cat $M/done
mb() { timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }
for round in 1 2; do
  for m in attn half mamba; do
    for f in "" "--no-fused-mlp"; do
      echo "-- $m $f $(el)"; mb $f $M/$m.mmb
    done
  done
done
echo "== end $(el)"
} > $OUT/kern14.txt 2>&1
cat $OUT/kern14.txt | tail -c 9000
