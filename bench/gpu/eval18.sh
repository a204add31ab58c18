#!/usr/bin/env bash
# Session 7: mmbrun's decode as a user runs it, greedy (--temp 0: tokens fed
# on the device) against its default sampling (temperature 0.8, top-k 40,
# top-p 0.95, min-p 0.05: logits read by the host each step), 256 tokens
# after a 16-token prompt, on the pure-attention and 50 % Mamba models; and
# mmbbench --host-feed with the new first-submission default (after 1 layer)
# against the device feed. Log: $OUT/eval18.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "half:--keep-attention 0.5"
wait; cat $M/done
for round in 1 2; do
  for m in attn half; do
    for s in "--temp 0" "" "--temp 0.8 --top-k 0 --top-p 1 --min-p 0"; do
      echo "-- mmbrun $m ${s:-defaults} $(el)"
      mr bin $M/$m.mmb $s
    done
  done
done
for m in attn half; do
  for f in "" "--host-feed"; do echo "-- mmbbench $m ${f:-device feed} $(el)"; mb $f $M/$m.mmb; done
done
echo "== end $(el)"
} > $OUT/eval18.txt 2>&1
tail -c 4000 $OUT/eval18.txt
