// Shared by every mmb compute shader.
//
// Weights are bound as raw 32-bit words and decoded here, so one binding
// layout serves every dtype and no 16/8-bit storage feature is needed to read
// them. The dtype codes are format.DType's: 1 F32, 2 F16, 3 BF16, 4 Q8_0.
// Q8_0 weights are repacked at upload: int8 quants first (element i is byte
// i), then one f16 scale per 32 values starting at word `so`.
#define DT_F32 1u
#define DT_F16 2u
#define DT_BF16 3u
#define DT_Q8 4u

#define WFETCH_FN(NAME, BUF) \
float NAME(uint dt, uint i, uint so) { \
	if (dt == DT_F32) return uintBitsToFloat(BUF[i]); \
	if (dt == DT_F16) return unpackHalf2x16(BUF[i >> 1] >> ((i & 1u) << 4)).x; \
	if (dt == DT_BF16) { uint w = BUF[i >> 1]; return uintBitsToFloat((i & 1u) != 0u ? (w & 0xffff0000u) : (w << 16)); } \
	float q = float(bitfieldExtract(int(BUF[i >> 2]), int((i & 3u) << 3), 8)); \
	return q * unpackHalf2x16(BUF[so + (i >> 6)] >> (((i >> 5) & 1u) << 4)).x; \
}

// Workgroup counts above 65535 (the guaranteed maximum per dimension) are
// spread over y; this gives the linear workgroup index.
uint group_id() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }

float silu(float x) { return x / (1.0 + exp(-x)); }

// conv4 is one step of a channel of the Mamba-2 depthwise causal conv of
// width 4 and its SiLU (conv1d.comp, and matvec4.comp's CONV): s holds the
// channel's last three inputs, oldest first, and takes x.
float conv4(inout vec3 s, vec4 w, float bias, float x) {
	float v = bias + w.x * s.x + w.y * s.y + w.z * s.z + w.w * x;
	s = vec3(s.yz, x);
	return silu(v);
}
