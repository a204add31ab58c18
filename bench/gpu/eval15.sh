#!/usr/bin/env bash
# Prepared in session 6 and never run: session 7 answered its question in
# final.sh instead (bench/gpu/final7, final7b; the default is now the first
# submission after 1 layer). What it was to measure: decode with the
# first early submission of a step after 1 or 2 layers and then every 4 (or
# 6, 8), against every 4 from the start (the default), interleaved, for the
# f16 models. eval13 put the host's recording of a whole step at ~140-165 µs
# (one submission against every 4 layers), so the first group's ~40 µs is
# time the device waits. Log: $OUT/eval15.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "half:--keep-attention 0.5" "mamba:--keep-attention 0"
wait; cat $M/done
mb() { timeout 40 bin/mmbbench --backend vulkan --prefill none --contexts none "$@" 2>&1 | grep -E '^mmbbench: (decode|error)|rror'; }
for round in 1 2; do
  for m in half mamba attn; do
    for s in "4 4" "4 1" "4 2" "6 1" "8 1"; do
      set -- $s
      echo "-- $m every $1 first $2 $(el)"; mb --submit-layers $1 --submit-first $2 $M/$m.mmb
    done
  done
done
echo "== end $(el)"
} > $OUT/eval15.txt 2>&1
cat $OUT/eval15.txt | tail -c 6000
