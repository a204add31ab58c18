#!/usr/bin/env python3
"""Make a Llama-3.2-1B-shaped checkpoint with random weights (bf16, sharded)
for measuring hfconvert at real size (issue 3, GPU machine).

    python3 make_llama1b.py OUTDIR

Shape of meta-llama/Llama-3.2-1B: hidden 2048, 16 layers, 32 heads, 8 kv heads
(head_dim 64), ffn 8192, vocab 128256, tied embeddings, rope theta 500000 with
llama3 scaling (factor 32, low 1, high 4, original 8192), rms eps 1e-5.
About 1.24e9 parameters, 2.47 GB in bf16, saved in shards of at most 500 MB
with model.safetensors.index.json.

Then, for example:
    /usr/bin/time -v hfconvert --keep-attention 0.5 --json OUTDIR llama1b.mmb
reports the time, the throughput (gb_per_second) and the peak RSS
("Maximum resident set size"); the largest tensor is the embedding,
128256 x 2048 bf16 = 525 MB.
"""
import json
import os
import sys

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "llama1b-random"
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=128256,
        hidden_size=2048,
        intermediate_size=8192,
        num_hidden_layers=16,
        num_attention_heads=32,
        num_key_value_heads=8,
        head_dim=64,
        max_position_embeddings=131072,
        rms_norm_eps=1e-5,
        rope_theta=500000.0,
        rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                      "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
        tie_word_embeddings=True,
        bos_token_id=128000,
        eos_token_id=[128001, 128008, 128009],
        torch_dtype="bfloat16",
    )
    # Build directly in bf16 on the meta-free default device: random init
    # (normal, std 0.02) is what we want; weights need not be meaningful.
    torch.set_default_dtype(torch.bfloat16)
    model = LlamaForCausalLM(cfg).eval()
    model.save_pretrained(out, max_shard_size="500MB", safe_serialization=True)
    n = sum(p.numel() for p in model.parameters())
    files = sorted(os.listdir(out))
    size = sum(os.path.getsize(os.path.join(out, f)) for f in files)
    print(json.dumps({"out": out, "parameters": n, "bytes": size, "files": files}, indent=1))


if __name__ == "__main__":
    main()
