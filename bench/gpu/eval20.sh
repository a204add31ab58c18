#!/usr/bin/env bash
# Session 7: topk.comp on up to 1024 invocations a workgroup (was 128)
# and its pipeline made at load time: mmbrun's default sampling (top-k 40)
# with the binary before (bin-base, 8957cb2's mmbrun) and after, interleaved.
# Log: $OUT/eval20.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "half:--keep-attention 0.5"
wait; cat $M/done
for round in 1 2 3; do
  for m in attn half; do
    for b in bin-base bin; do
      echo "-- $b mmbrun $m defaults $(el)"
      mr $b $M/$m.mmb
    done
  done
done
echo "== end $(el)"
} > $OUT/eval20.txt 2>&1
tail -c 3000 $OUT/eval20.txt
