#!/usr/bin/env bash
# Session 7: greedy decode with each token fed to the next step on the device
# (steps queued ahead of the host, one submission per step) against the host
# reading each token back first: BenchmarkDecodeKnobs (in-process, variants
# interleaved; as-is = device feed, host-feed = StepArgmax) on the three f16
# models, then mmbbench decode default vs --host-feed, interleaved, and the
# feed's tests on the H200. Log: $OUT/eval16.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "half:--keep-attention 0.5" "mamba:--keep-attention 0"
echo "== feed tests on the H200 $(el)"
(cd runtime/vulkan && timeout 120 ../../bin/vulkan.test -test.count=1 -test.run 'TestGreedyFed|TestSubmitReadAwait|TestEmbedFed|TestFixtures$|TestGocoder|TestDecodeAllocs' 2>&1 | tail -5)
wait; cat $M/done
for m in half mamba attn; do
  echo "== knobs $m $(el)"
  (cd runtime/vulkan && MMB_DECODE_MODEL=$M/$m.mmb timeout 90 ../../bin/vulkan.test -test.run '^$' -test.bench DecodeKnobs -test.benchtime 1x 2>&1 | grep -E 'Benchmark|FAIL|panic' | tr '\t' '\n' | grep -E 'tok/s|FAIL|panic')
done
mb() { timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }
for round in 1 2; do
  for m in half mamba attn; do
    for f in "" "--host-feed"; do
      echo "-- $m ${f:-device-feed} $(el)"; mb $f $M/$m.mmb
    done
  done
done
echo "== end $(el)"
} > $OUT/eval16.txt 2>&1
cat $OUT/eval16.txt | tail -c 6000
