#!/usr/bin/env bash
# RECORD ONLY: the chained stages were removed after these runs (their
# figures are in bench/RESULTS.md); --no-chain no longer exists.
# Chained decode stages (runtime/vulkan/chain.go) on the H200: the vulkan
# tests (chaining is on by default here, so every test's decode runs
# chained; the Chained tests with real waits), the MLP block kernels with and
# without chaining, and mmbbench decode (no prefill, no long contexts) of the
# 1B models with and without, interleaved. Log: $OUT/kern12.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "half:--keep-attention 0.5" "mamba:--keep-attention 0" "attn-q8:--dtype q8_0"
echo "== vulkan tests $(el)"
(cd runtime/vulkan && timeout 200 ../../bin/vulkan.test -test.count=1 2>&1 | grep -E -A4 '^(--- FAIL|FAIL|ok|PASS)|chain_test|panic' | head -60)
echo "== kernels $(el)"
(cd runtime/vulkan && timeout 60 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLP/(f16|q8)_2048x8192/(paired|paired-nochain)$' -test.benchtime 3x 2>&1 | grep Benchmark)
echo "== models $(el)"; wait; cat $M/done
mb() { timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }
for round in 1 2; do
  for m in attn half mamba attn-q8; do
    for f in "" "--no-chain"; do
      echo "-- $m $f $(el)"; mb $f $M/$m.mmb
    done
  done
done
echo "-- attn at 1k/8k/32k $(el)"; timeout 60 bin/mmbbench --backend vulkan --prefill none --contexts 1k,8k,32k $M/attn.mmb 2>&1 | grep '^mmbbench: decode'
echo "== end $(el)"
} > $OUT/kern12.txt 2>&1
cat $OUT/kern12.txt | tail -c 9000
