# Included by the top-level Makefile. SPIR-V is committed; this rebuilds it
# from shaders/glsl with glslc (Debian package glslc).
SHADER_SRC := $(wildcard shaders/glsl/*.comp shaders/glsl/*.glsl)

shaders: shaders/spv/.stamp

shaders/spv/.stamp: $(SHADER_SRC) shaders/internal/build/build.go shaders/gen/main.go
	@command -v glslc >/dev/null || { echo "make shaders needs glslc (apt-get install glslc)"; exit 1; }
	$(GO) run ./shaders/gen
	@touch $@

# Fails if the committed SPIR-V differs from what the sources compile to.
shaders-check:
	$(GO) test -count=1 -run TestSPIRVUpToDate ./shaders/
