# Run where HF tokenizers and transformers are installed, from the repository root:
#   python3 runtime/tokenizer/testdata/hfgen/hf_cases.py > $OUT/hf_cases.json
# Records what HF does with the strings and tokenizer variants of inputs.json (made by make_inputs.py).
import json, sys, os, random, tempfile, copy
import tokenizers, transformers
from tokenizers import Tokenizer, pre_tokenizers, Regex
from transformers import AutoTokenizer

inp = json.load(open("runtime/tokenizer/testdata/hfgen/inputs.json", encoding="utf-8"))
texts = inp["texts"]

def build(v):
    j = json.load(open(v["base"], encoding="utf-8"))
    if v.get("merges_to_strings"):
        j["model"]["merges"] = [" ".join(m) for m in j["model"]["merges"]]
    for k, val in v["set"].items():
        d = j; ks = k.split(".")
        for kk in ks[:-1]: d = d[kk]
        d[ks[-1]] = val
    j["added_tokens"] = j["added_tokens"] + v.get("append_added", [])
    return j

out = {"tokenizers_version": tokenizers.__version__, "transformers_version": transformers.__version__,
       "splits": {}, "variants": [], "configs": []}
for name, p in inp["patterns"].items():
    pt = pre_tokenizers.Split(Regex(p), "isolated")
    out["splits"][name] = [[s for s, _ in pt.pre_tokenize_str(t)] for t in texts]
built = {}
for v in inp["variants"]:
    j = build(v); built[v["name"]] = j
    rec = {"name": v["name"]}
    try:
        tok = Tokenizer.from_str(json.dumps(j))
        n = tok.get_vocab_size(with_added_tokens=True)
        rec["vocab_size"] = n
        rec["added_ids"] = {t["content"]: tok.token_to_id(t["content"]) for t in j["added_tokens"]}
        cases = []
        for t in texts:
            e = tok.encode(t, add_special_tokens=False).ids
            es = tok.encode(t, add_special_tokens=True).ids
            cases.append({"ids": e, "ids_special": es, "decoded": tok.decode(e, skip_special_tokens=False)})
        rec["cases"] = cases
        rng = random.Random(len(v["name"]))
        dec = []
        for _ in range(60):
            ids = [rng.randrange(0, n + 3) for _ in range(rng.randrange(1, 12))]
            dec.append({"ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False)})
        rec["decodes"] = dec
    except Exception as ex:
        rec["error"] = repr(ex)
    out["variants"].append(rec)
for c in inp["configs"]:
    rec = {"name": c["name"]}
    try:
        d = tempfile.mkdtemp()
        json.dump(built[c["variant"]], open(os.path.join(d, "tokenizer.json"), "w"), ensure_ascii=False)
        cfg = c["config"]
        if isinstance(cfg, str): cfg = json.load(open(cfg))
        json.dump(cfg, open(os.path.join(d, "tokenizer_config.json"), "w"))
        tk = AutoTokenizer.from_pretrained(d)
        rec["class"] = type(tk).__name__
        rec["bos_token_id"] = tk.bos_token_id; rec["eos_token_id"] = tk.eos_token_id
        rec["cases"] = []
        for t in texts[:40] + texts[-100:]:
            ids = tk(t)["input_ids"]
            rec["cases"].append({"text": t, "ids": ids, "decoded": tk.decode(ids)})
    except Exception as ex:
        rec["error"] = repr(ex)
    out["configs"].append(rec)
json.dump(out, sys.stdout, ensure_ascii=False)
