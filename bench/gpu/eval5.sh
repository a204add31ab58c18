#!/usr/bin/env bash
# Session 5, first device call, on branch exp/fused: the attention block
# (--no-attn-block) and the SSM step (--no-ssm-step) against their off
# switches, interleaved; the compiler statistics of the decode kernels
# (TestPipelineStats); the MLP block with 2/4 gate/up words per lane; the
# per-op decode profile. Models made once. Log: $OUT/eval5.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "q8:--dtype q8_0" "half:--keep-attention 0.5" "mamba:--keep-attention 0"
echo "== compiler statistics $(el)"
(cd runtime/vulkan && timeout 60 ../../bin/vulkan.test -test.run 'TestPipelineStats' -test.v 2>&1 | head -120)
echo "== vulkan tests (attention block, SSM step, MLP block, fixtures) $(el)"
(cd runtime/vulkan && timeout 150 ../../bin/vulkan.test -test.count=1 -test.run 'AttentionOut|AttnBlock|SSMScanGated|SSMStep|MLPBlock|Fixture|Gocoder|Allocs' 2>&1 | grep -E -A6 '^(--- FAIL|FAIL|ok|PASS)|panic' | head -40)
echo "== MLP block gate/up words $(el)"
(cd runtime/vulkan && timeout 60 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLPBlock/.*/(stages|block32|block32-ua2|block32-ua4)$' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|SKIP')
echo "== models $(el)"; wait; cat $M/done
mb() { timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }
for round in 1 2; do
  for m in attn q8 half; do
    for f in "" "--no-attn-block"; do echo "-- $m $f $(el)"; mb $f $M/$m.mmb; done
  done
  for m in half mamba; do
    echo "-- $m --no-ssm-step $(el)"; mb --no-ssm-step $M/$m.mmb
  done
  echo "-- mamba $(el)"; mb $M/mamba.mmb
done
echo "-- mamba contexts $(el)"; timeout 60 bin/mmbbench --backend vulkan --prefill none $M/mamba.mmb 2>&1 | grep -E '^mmbbench: (decode|error)|rror'
for m in attn q8 mamba; do
  echo "== profile $m $(el)"
  timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none --profile $M/$m.mmb 2>&1 | sed -n '/^profile: decode/,$p' | head -24
done
echo "== end $(el)"
} > $OUT/eval5.txt 2>&1
cat $OUT/eval5.txt | tail -c 11000
