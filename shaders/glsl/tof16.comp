#version 450
// dst[r, c] = f16(src[r·w + c]) for r < rows, c < w, and 0 for rows ≤ r <
// pad: the f16 copies of the caches that attncm reads. Values
// beyond f16's range are clamped to ±65504 rather than becoming ±inf (which
// would turn the fp32 sums into inf or NaN). w is even; dst is packed pairs.
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) writeonly buffer DB { uint D[]; };
layout(std430, binding = 1) readonly buffer SB { float S[]; };
layout(push_constant) uniform PC { uint rows, pad, w; } pc;

void main() {
	uint hw = pc.w / 2u;
	uint i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	if (i >= pc.pad * hw) return;
	uint r = i / hw, c = 2u * (i % hw);
	vec2 v = vec2(0.0);
	if (r < pc.rows) {
		uint s = r * pc.w + c;
		v = clamp(vec2(S[s], S[s + 1u]), -65504.0, 65504.0);
	}
	D[i] = packHalf2x16(v);
}
