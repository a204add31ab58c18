# make bench: mmbbench (issue 6) on BENCH_MODEL, generated first if missing:
# by default a Llama-3.2-1B-shaped model with random f16 weights, pure
# attention. The full run (prefill 4096, decode at 32k) is meant for a GPU;
# on a CPU, shorten it, e.g. BENCH_FLAGS='--prefill 512 --contexts 1k'.
#   make bench BENCH_GEN='--mamba-layers all' BENCH_MODEL=out/bench-mamba.mmb
# make bench-all writes out/bench-{attn,half,mamba,attn-q8}.{txt,json}: the
# three layer mixes in f16 and the pure-attention model in q8_0, profiled.
BENCH_MODEL ?= out/bench-l1b-f16-attn.mmb
BENCH_GEN ?= --dtype f16 --mamba-layers none
BENCH_FLAGS ?= --backend auto

.PHONY: bench bench-all

bench: build
	@mkdir -p $(dir $(BENCH_MODEL))
	@test -f $(BENCH_MODEL) || $(BIN)/mmbbench gen $(BENCH_GEN) $(BENCH_MODEL)
	$(BIN)/mmbbench $(BENCH_FLAGS) $(BENCH_MODEL)

bench-all: build
	@mkdir -p out
	@set -eo pipefail; for m in attn:none:f16 half:half:f16 mamba:all:f16 attn-q8:none:q8_0; do \
		IFS=: read name mix dt <<< "$$m"; \
		test -f out/bench-$$name.mmb || $(BIN)/mmbbench gen --mamba-layers $$mix --dtype $$dt out/bench-$$name.mmb; \
		$(BIN)/mmbbench $(BENCH_FLAGS) --profile --json-out out/bench-$$name.json out/bench-$$name.mmb | tee out/bench-$$name.txt; \
	done
