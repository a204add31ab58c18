#!/usr/bin/env bash
# Session 7: mmbrun's sampled decode after the sampler fix (Pick ranks only
# what a choice can reach) and with top-k candidates ranked on the GPU
# (StepTopK), against greedy; the new tests on the H200; then the Vulkan
# tests under the validation layer (validate.sh, with TestTopK and
# TestStepTopK). Logs: $OUT/eval19.txt, $OUT/validate.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "half:--keep-attention 0.5"
echo "== tests on the H200 $(el)"
(cd runtime/vulkan && timeout 120 ../../bin/vulkan.test -test.count=1 -test.run 'TestTopK|TestStepTopK|TestDecodeAllocs|TestGreedyFed' 2>&1 | tail -3)
(cd runtime/generate && timeout 120 ../../bin/generate.test -test.count=1 2>&1 | tail -3)
wait; cat $M/done
for round in 1 2; do
  for m in attn half; do
    for s in "--temp 0" "" "--top-k 0"; do
      echo "-- mmbrun $m ${s:-defaults} $(el)"
      mr bin $M/$m.mmb $s
    done
  done
done
echo "== end $(el)"
} > $OUT/eval19.txt 2>&1
bash bench/gpu/validate.sh > /dev/null 2>&1
tail -c 3500 $OUT/eval19.txt; tail -c 2200 $OUT/validate.txt
