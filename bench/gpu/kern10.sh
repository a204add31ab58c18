#!/usr/bin/env bash
# Split matvec rows and weight prefetch: the vulkan tests that cover them on
# the H200, the matvec and MLP kernels with and without splitting, and
# mmbbench decode (no prefill, no long contexts) of the 1B models with
# prefetch and split on and off, interleaved. Log: $OUT/kern10.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "half:--keep-attention 0.5" "mamba:--keep-attention 0" "attn-q8:--dtype q8_0"
echo "== vulkan tests $(el)"
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.count=1 -test.run 'Split|Prefetch|TestConformance$|DecodeStepFused$|PairedGLU$|Gocoder' 2>&1 | tail -4)
echo "== kernels $(el)"
(cd runtime/vulkan && timeout 90 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMatvec/(F16|Q8_0)/(qo|up|down)_.*/matvec4(-split.)?$' -test.benchtime 3x 2>&1 | grep Benchmark
 timeout 40 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLP/(f16|q8)_2048x8192/(paired|paired-split1)$' -test.benchtime 3x 2>&1 | grep Benchmark)
echo "== models $(el)"; wait; cat $M/done
mb() { timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep '^mmbbench: decode'; }
for round in 1 2; do
  for f in "" "--prefetch-mib -1" "--matvec-split 1" "--prefetch-mib -1 --matvec-split 1" "--prefetch-mib 12" "--prefetch-mib 40"; do
    echo "-- attn $f $(el)"; mb $f $M/attn.mmb
  done
done
for m in half mamba attn-q8; do
  for f in "" "--prefetch-mib -1 --matvec-split 1"; do
    echo "-- $m $f $(el)"; mb $f $M/$m.mmb
  done
done
echo "== end $(el)"
} > $OUT/kern10.txt 2>&1
cat $OUT/kern10.txt | tail -c 9000
