#!/usr/bin/env bash
# Session 5, after the review (conv4 shared by conv1d.comp and matvec4's
# CONV; the -tiled knob removed): the whole vulkan test binary on the H200.
# Log: $OUT/verify5.txt.
set -u
. bench/gpu/env.sh
{
echo "== vulkan tests on the H200 $(el)"
(cd runtime/vulkan && timeout 300 ../../bin/vulkan.test -test.count=1 -test.v 2>&1 | grep -E '^(--- |FAIL|ok|PASS)|panic' | grep -v -- '--- PASS: .*/' | tail -80)
echo "== end $(el)"
} > $OUT/verify5.txt 2>&1
tail -c 6000 $OUT/verify5.txt
