#!/usr/bin/env bash
# mmbbench on the H200 (issue 6): the Llama-3.2-1B-shaped checkpoint made by
# transformers (make_models.py), converted by hfconvert into pure attention,
# 50% and 100% Mamba (f16) and q8_0 attention; each benchmarked in one run
# with --profile. Tables go to $OUT/bench-NAME.txt, JSON to $OUT/bench-NAME.json.
#   bench/gpu/mmbbench.sh            full run (prefill 512,4k; contexts 1k,8k,32k)
#   bench/gpu/mmbbench.sh quick      prefill 512, contexts 1k,8k, one repetition
#   FLAGS='...' bench/gpu/mmbbench.sh   any mmbbench flags instead
# Needs bin/mmbbench, bin/hfconvert and .gl/ as in shared/GPU.md.
set -u
. bench/gpu/env.sh
case "${1:-full}" in
  quick) DEF='--prefill 512 --contexts 1k,8k --reps 1' ;;
  *) DEF='' ;;
esac
FLAGS=${FLAGS:-$DEF}
PER=${PER:-110} # seconds per model (4 models + conversion fit the 10-minute run limit)
M=/tmp/m; mkdir -p $M
{
echo "== device"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; bin/mmbrun --list-devices
echo "== models"
[ -d $M/llama1b-f16 ] || python3 bench/gpu/make_models.py $M 2>&1 | tail -1
[ -f $M/attn.mmb ] || bin/hfconvert $M/llama1b-f16 $M/attn.mmb
[ -f $M/half.mmb ] || bin/hfconvert --keep-attention 0.5 $M/llama1b-f16 $M/half.mmb
[ -f $M/mamba.mmb ] || bin/hfconvert --keep-attention 0 $M/llama1b-f16 $M/mamba.mmb
[ -f $M/attn-q8.mmb ] || bin/hfconvert --dtype q8_0 $M/llama1b-f16 $M/attn-q8.mmb
for m in attn half mamba attn-q8; do
  echo "== mmbbench $m ($FLAGS)"
  timeout $PER bin/mmbbench --backend vulkan --profile $FLAGS --json-out $OUT/bench-$m.json $M/$m.mmb > $OUT/bench-$m.txt 2> $OUT/bench-$m.err
  echo "rc $?"; cat $OUT/bench-$m.txt; tail -2 $OUT/bench-$m.err
done
} > $OUT/mmbbench.txt 2>&1
tail -c 8000 $OUT/mmbbench.txt
