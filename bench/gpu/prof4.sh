#!/usr/bin/env bash
# NOT RUN as such: session 5's eval5.sh (on exp/fused) ran its parts (the
# -ua2/-ua4 variants named here became the default and -ua4/-ua8). Was meant to run
# first in session 5 to see the decode step per op with the MLP block and
# the kernels' register counts (TestPipelineStats, untested on lavapipe,
# which lacks VK_KHR_pipeline_executable_properties), and the MLP block
# with 2 or 4 gate/up words per lane per round (fewer registers).
# Per-op decode profile with the MLP block forwarded by the profiler (one
# "MLP block" op per layer), f16 and q8_0 pure attention. Log: $OUT/prof4.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "q8:--dtype q8_0"
echo "== compiler statistics (register counts) of the decode kernels $(el)"
(cd runtime/vulkan && timeout 60 ../../bin/vulkan.test -test.run 'TestPipelineStats' -test.v 2>&1 | head -150)
echo "== MLP block with fewer gate/up registers $(el)"
(cd runtime/vulkan && timeout 60 ../../bin/vulkan.test -test.run '^$' -test.bench 'KernelMLPBlock/.*/(stages|block32|block32-ua2|block32-ua4)$' -test.benchtime 3x 2>&1 | grep -E 'Benchmark|SKIP')
wait; cat $M/done
for m in attn q8; do
  echo "== $m $(el)"
  timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none --profile $M/$m.mmb 2>&1 | sed -n '/^profile: decode/,$p' | head -22
done
echo "== end $(el)"
} > $OUT/prof4.txt 2>&1
cat $OUT/prof4.txt
