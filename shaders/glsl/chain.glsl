// Chained stages (runtime/vulkan/chain.go): a dispatch of the next stage of
// a decode step starts without a pipeline barrier after the one before and
// waits on a counter instead, which every workgroup of the stage before
// increments when its writes are done. The wait costs a poll of an L2 word
// where a barrier costs the drain of the stage and a launch. It relies on
// the GPU starting a dispatch's workgroups only after every workgroup of
// the dispatches recorded before it has started (true of NVIDIA's in-order
// launch), so that the waited-for workgroups always run; a wait that still
// exceeds its poll limit sets word 0 and goes on, and the backend reports
// it.
//
// Push constant words 8–12 (a shader pads its own to 8 with CHAINPC): the
// wait's counter word and target, whether to wait, the counter word to
// increment and the poll limit. Buffers that earlier stages write are read
// COH (coherent: from L2, not a stale L1), and those a shader only reads
// COHRO: coherent, not readonly, as NVIDIA reads readonly buffers through
// its non-coherent read-only cache whatever their other qualifiers. Without
// CHAIN these are empty and readonly.
#ifdef CHAIN
layout(std430, binding = 7) coherent volatile buffer ChainB { uint chainCnt[]; };

#define CHAINPC0 uint cwslot; uint cwtarget; uint cwait; uint csslot; uint cspin;
#define CHAINPC(pad) pad CHAINPC0
#define COH coherent
#define COHRO coherent

// chain_spin returns once word slot has reached target (mod 2^32), or
// after limit polls. Between polls it idles ~100 dependent ALU steps, so
// that thousands of waiting workgroups do not crowd the counter's L2 line
// that the stage they wait for must increment.
void chain_spin(uint slot, uint target, uint limit) {
	float idle = float(slot);
	for (uint n = 0u; n < limit; n++) {
		if (int(chainCnt[slot] - target) >= 0 || idle < 0.0) return;
		for (int k = 0; k < 100; k++) idle = idle * 0.999 + 1.0;
	}
	atomicOr(chainCnt[0], 1u);
}

// chain_signal counts this workgroup done at word slot once every
// invocation's writes are visible device-wide; every invocation must call
// it (it has a barrier).
void chain_signal(uint slot) {
	memoryBarrierBuffer();
	barrier();
	if (gl_LocalInvocationIndex == 0u) atomicAdd(chainCnt[slot], 1u);
}

// CHAIN_WAIT_WG: the workgroup waits for the stage before (pc's words; one
// invocation polls); at the top of main only (it has a barrier).
#define CHAIN_WAIT_WG() if (pc.cwait != 0u) { if (gl_LocalInvocationIndex == 0u) chain_spin(pc.cwslot, pc.cwtarget, pc.cspin); barrier(); memoryBarrierBuffer(); }
// CHAIN_SIGNAL: the workgroup counts itself done; every invocation calls it.
#define CHAIN_SIGNAL() chain_signal(pc.csslot)
#else
#define CHAINPC0
#define CHAINPC(pad)
#define COH
#define COHRO readonly
#define CHAIN_WAIT_WG()
#define CHAIN_SIGNAL()
#endif
