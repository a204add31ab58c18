#!/usr/bin/env bash
# Session-2 last device call: compute-only barriers. mmbbench of the 1B
# attention model (f16, q8_0), then the vulkan tests under the validation
# layer with synchronization validation (validate.sh). Log: $OUT/kern7.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "attn-q8:--dtype q8_0"; wait
for s in "attn:--prefill 512,4k --contexts 1k" "attn-q8:--prefill 4k --contexts none"; do
  IFS=: read m f <<< "$s"
  echo "== mmbbench $m $f $(el)"
  timeout 90 bin/mmbbench --backend vulkan $f $M/$m.mmb 2>&1 | grep '^mmbbench: \(decode\|prefill\|bandwidth\)'
done
echo "== validation $(el)"
} > $OUT/kern7.txt 2>&1
bash bench/gpu/validate.sh > /dev/null 2>&1
cat $OUT/validate.txt >> $OUT/kern7.txt
tail -c 6000 $OUT/kern7.txt
