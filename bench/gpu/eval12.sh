#!/usr/bin/env bash
# Session 6, seventh call: attndec loads a position's key words 8 at a time
# (KU; it waited on each 16-byte load in turn). The attention tests on the
# H200; decode with each fusion on and off in one process per model
# (BenchmarkDecodeKnobs, variant attn-ku1: one key word at a time in the
# attention block); then mmbbench (decode, prefill, long context) on the
# models with attention layers. Log: $OUT/eval12.txt; JSON: $OUT/bench-*.json.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "q8:--dtype q8_0" "half:--keep-attention 0.5"
echo "== tests on the H200 $(el)"
(cd runtime/vulkan && timeout 100 ../../bin/vulkan.test -test.count=1 -test.run 'TestAttention|TestDecodeStepAttnBlock|TestFixtures$|TestGocoder$|TestConformance$' 2>&1 | grep -E '^(--- |FAIL|ok|PASS)|panic' | head -20)
echo "== models $(el)"; wait; cat $M/done
for m in attn q8 half; do
  echo "-- $m $(el)"
  (cd runtime/vulkan && MMB_DECODE_MODEL=$M/$m.mmb timeout 100 ../../bin/vulkan.test -test.run '^$' -test.bench DecodeKnobs -test.benchtime 1x 2>&1 | grep -E 'Benchmark|SKIP|FAIL|rror')
done
for m in attn half q8; do
  echo "== mmbbench $m $(el)"
  timeout 60 bin/mmbbench --backend vulkan --json-out $OUT/bench-$m.json $M/$m.mmb 2>&1 | grep -E '^mmbbench: (decode|prefill|error)|rror'
done
echo "== end $(el)"
} > $OUT/eval12.txt 2>&1
cat $OUT/eval12.txt | tail -c 9000
