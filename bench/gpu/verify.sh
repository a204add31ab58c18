#!/usr/bin/env bash
# The vulkan tests on the H200 (the cooperative-matrix ones run only there),
# after a change that lavapipe cannot check. Log: $OUT/verify.txt.
set -u
. bench/gpu/env.sh
(cd runtime/vulkan && timeout 200 ../../bin/vulkan.test -test.count=1 -test.v 2>&1 | grep -E '^(--- FAIL|--- SKIP|--- PASS: TestCoop|--- PASS: TestSplit|FAIL|ok|PASS)|panic' | head -40) > $OUT/verify.txt 2>&1
cat $OUT/verify.txt
