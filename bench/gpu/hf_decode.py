"""HF transformers baseline on the same checkpoint: greedy generate, batch 1,
PyTorch eager; prints decode tokens/s and prefill tokens/s as JSON.

    python3 bench/gpu/hf_decode.py CHECKPOINT_DIR
"""
import json, sys, time, torch
from transformers import AutoModelForCausalLM

path = sys.argv[1]
m = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float16, attn_implementation="eager").cuda().eval()
prompt = torch.randint(0, m.config.vocab_size, (1, 16), device="cuda")
res = {}
with torch.no_grad():
    m.generate(prompt, max_new_tokens=8, do_sample=False, min_new_tokens=8)  # warm-up
    torch.cuda.synchronize()
    for n in (1, 129):
        t = time.time()
        m.generate(prompt, max_new_tokens=n, min_new_tokens=n, do_sample=False)
        torch.cuda.synchronize()
        res[n] = time.time() - t
    res_decode = 128 / (res[129] - res[1])
    out = {"decode_tok_s": res_decode}
    for T in (512, 4096):
        x = torch.randint(0, m.config.vocab_size, (1, T), device="cuda")
        m(x); torch.cuda.synchronize()
        t = time.time()
        for _ in range(3):
            m(x)
        torch.cuda.synchronize()
        out[f"prefill{T}_tok_s"] = 3 * T / (time.time() - t)
print(json.dumps(out))
