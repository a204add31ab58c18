"""Makes the Llama-3.2-1B-shaped checkpoint with random weights that the GPU
figures use (issue 3 and 6), saved by transformers as bf16 shards, plus a
copy in float16 for the speed runs. Run on the GPU machine:

    python3 bench/gpu/make_models.py OUTDIR
"""
import sys, time, torch
from transformers import LlamaConfig, LlamaForCausalLM

out = sys.argv[1]
cfg = LlamaConfig(
    hidden_size=2048, num_hidden_layers=16, num_attention_heads=32, num_key_value_heads=8,
    intermediate_size=8192, vocab_size=128256, tie_word_embeddings=True, head_dim=64,
    max_position_embeddings=131072, rms_norm_eps=1e-5,
    rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 32.0,
                     "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192},
    bos_token_id=128000, eos_token_id=128001)
torch.manual_seed(0)
t = time.time()
with torch.device("cuda"):
    m = LlamaForCausalLM(cfg).to(torch.bfloat16)
m.save_pretrained(out + "/llama1b-bf16", max_shard_size="500MB")
m.to(torch.float16).save_pretrained(out + "/llama1b-f16", max_shard_size="2GB")
print(f"made in {time.time()-t:.1f}s")
