#!/usr/bin/env bash
# Vulkan kernel work (issue 6) on the H200, second device call (after the
# fusions, decode attention, tiled prefill attention, matmul2): correctness of
# runtime/vulkan there, per-kernel benchmarks (matvec GB/s per shape and
# dtype, decode attention by context, dispatch floor), then decode figures
# of the 1B models (mmbrun, as in run1.sh) and a quick mmbbench.
# Everything goes to $OUT/kern.txt; the last lines are a summary.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
echo "== device $(el)"; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader
models $M "attn:" "half:--keep-attention 0.5" "mamba:--keep-attention 0" "attn-q8:--dtype q8_0"
echo "== vulkan tests $(el)"
(cd runtime/vulkan && timeout 70 ../../bin/vulkan.test -test.count=1 2>&1 | tail -8)
echo "== kernel benchmarks $(el)"
(cd runtime/vulkan && timeout ${KB:-80} ../../bin/vulkan.test -test.run '^$' -test.bench "${BENCH:-Kernel}" -test.benchtime 3x 2>&1 | grep -v '^goos\|^goarch\|^pkg\|^cpu')
echo "== models $(el)"; wait; cat $M/done; ls -la $M/*.mmb | awk '{print $5, $9}'
P=$(python3 -c 'print(",".join(str(i*37%128000) for i in range(16)))')
for m in attn half mamba attn-q8; do
  echo "-- mmbrun decode $m $(el)"; timeout 30 bin/mmbrun --backend vulkan --prompt-ids $P -n 128 --temp 0 --ids $M/$m.mmb 2>&1 >/dev/null | tail -1
done
for m in attn mamba half attn-q8; do
  case $m in
    attn) F='--prefill 512,4k --contexts 1k,8k' ;;
    mamba) F='--prefill 512,4k --contexts 1k,8k,32k' ;;
    half) F='--prefill 4k --contexts 1k,8k' ;;
    *) F='--prefill 4k --contexts none' ;;
  esac
  echo "== mmbbench $m $F $(el)"
  timeout ${PER:-45} bin/mmbbench --backend vulkan --profile $F --reps 1 --json-out $OUT/bench-$m.json $M/$m.mmb > $OUT/bench-$m.txt 2> $OUT/bench-$m.err
  echo "rc $?"; cat $OUT/bench-$m.txt | head -70; tail -2 $OUT/bench-$m.err
done
echo "== end $(el)"
} > $OUT/kern.txt 2>&1
grep -E 'of-copy-bw|TFLOP|µs/call|tok/s|^ok|FAIL|^==|^--|rc |panic' $OUT/kern.txt | sed -e 's/  */ /g' | tail -c 11500
