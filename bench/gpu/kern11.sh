#!/usr/bin/env bash
# Split rule and prefetch, second look: lm_head and MLP-block kernels with
# the split rule against forced splits; mmbbench decode (256 tokens, 5 reps)
# with prefetch on and off, interleaved, on the f16 attention, 100 % Mamba
# and q8_0 models. Log: $OUT/kern11.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "mamba:--keep-attention 0" "attn-q8:--dtype q8_0"
echo "== vulkan tests $(el)"
(cd runtime/vulkan && timeout 100 ../../bin/vulkan.test -test.count=1 -test.run 'Split|Prefetch|DecodeStepFused$|Gocoder' 2>&1 | tail -3)
echo "== kernels $(el)"
(cd runtime/vulkan && timeout 60 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMatvec/(F16|Q8_0)/head_.*/matvec4(-split[12])?$' -test.benchtime 3x 2>&1 | grep Benchmark
 timeout 60 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLP/(f16|q8)_2048x8192/(paired|paired-split.)$' -test.benchtime 3x 2>&1 | grep Benchmark)
echo "== models $(el)"; wait; cat $M/done
mb() { timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none --decode 256 --reps 5 "$@" 2>&1 | grep '^mmbbench: decode'; }
for m in attn mamba attn-q8; do
  for round in 1 2 3; do
    for f in "" "--prefetch-mib -1"; do
      echo "-- $m $f $(el)"; mb $f $M/$m.mmb
    done
  done
done
echo "-- attn --matvec-split 1 $(el)"; mb --matvec-split 1 $M/attn.mmb
echo "-- attn-q8 --matvec-split 1 $(el)"; mb --matvec-split 1 $M/attn-q8.mmb
echo "== end $(el)"
} > $OUT/kern11.txt 2>&1
cat $OUT/kern11.txt | tail -c 9000
