#!/usr/bin/env bash
# After the session-4 final run: the validation-layer run (validate.sh)
# with vulkanMemoryModelDeviceScope enabled beside the cooperative-matrix
# memory model, then the whole vulkan test binary (final.sh's 120 s limit
# cut it off). Log: $OUT/verify4.txt.
set -u
bash bench/gpu/validate.sh > /dev/null 2>&1
. bench/gpu/env.sh
{
cat $OUT/validate.txt | tail -c 3000
echo "== whole vulkan test binary $(el)"
(cd runtime/vulkan && timeout 300 ../../bin/vulkan.test -test.count=1 -test.v 2>&1 | grep -E '^(--- FAIL|FAIL|ok|PASS)|panic|^--- PASS: Test[A-Za-z]+ ' | tail -80)
echo "== end $(el)"
} > $OUT/verify4.txt 2>&1
cat $OUT/verify4.txt | tail -c 9000
