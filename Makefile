# mmb: see README.md. Every target installs what it needs (scripts/setup.sh).
SHELL := /bin/bash
GO := scripts/go
BIN := bin
MODEL := testdata/models/gocoder-4m
DEMO_PROMPT := package main\n\nimport (\n\t"fmt"\n

.PHONY: all build demo test clean

all: build

build:
	$(GO) build -o $(BIN)/ ./tools/...

# The main job on the bundled model: convert it twice (all attention, and a
# 50% Mamba hybrid), then generate Go code with each, printing tokens/s.
demo: build
	@mkdir -p out
	$(BIN)/hfconvert $(MODEL) out/gocoder.mmb
	$(BIN)/hfconvert --keep-attention 0.5 $(MODEL) out/gocoder-hybrid.mmb
	@echo; echo "== full attention (the converted teacher)"
	$(BIN)/mmbrun -n 96 --temp 0 -p $$'$(DEMO_PROMPT)' out/gocoder.mmb
	@echo; echo "== 50% Mamba hybrid, straight after conversion (not yet distilled: expect weaker text)"
	$(BIN)/mmbrun -n 96 --temp 0 -p $$'$(DEMO_PROMPT)' out/gocoder-hybrid.mmb

# The whole test suite; fuzz targets run their committed seed corpora only.
# Then the Vulkan tests again under the Khronos validation layer.
test:
	$(GO) vet ./...
	$(GO) test -timeout 30m ./...
	scripts/vkvalidate.sh

-include shaders/shaders.mk
-include bench/bench.mk

clean:
	rm -rf $(BIN) out
