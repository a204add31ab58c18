#!/usr/bin/env bash
# Session 7, after removing the attention block's copy fold (the copy of h
# for the MLP block is a dispatch of its own in every block now): the
# in-process decode knobs and mmbbench decode on the three f16 models, then
# the Vulkan tests under the validation layer (validate.sh, which now runs
# the feed's tests too). Logs: $OUT/eval17.txt, $OUT/validate.txt.
set -u
. bench/gpu/env.sh
M=/tmp/m
{
models $M "attn:" "half:--keep-attention 0.5" "mamba:--keep-attention 0"
wait; cat $M/done
for m in half mamba attn; do
  echo "== knobs $m $(el)"
  knobs $M/$m.mmb
done
for round in 1 2; do
  for m in half mamba attn; do
    echo "-- $m $(el)"; mb $M/$m.mmb
  done
done
echo "== end $(el)"
} > $OUT/eval17.txt 2>&1
bash bench/gpu/validate.sh > /dev/null 2>&1
tail -c 3000 $OUT/eval17.txt; tail -c 2500 $OUT/validate.txt
