# Included by the top-level Makefile. SPIR-V is committed; `make shaders`
# rebuilds shaders/spv from shaders/glsl with glslc (Debian package glslc).
shaders:
	@command -v glslc >/dev/null || { echo "make shaders needs glslc (apt-get install glslc)"; exit 1; }
	$(GO) run ./shaders/gen

# Fails if the committed SPIR-V differs from what the sources compile to.
shaders-check:
	$(GO) test -count=1 -run TestSPIRVUpToDate ./shaders/
