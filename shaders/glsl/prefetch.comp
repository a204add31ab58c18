#version 450
// Reads up to two word ranges of a weight buffer so that they sit in the
// GPU's L2 cache when a later stage's matvec reads them: recorded beside a
// latency-bound op (decode attention, the Mamba scan), it uses memory
// bandwidth that would otherwise idle. The loads feed an XOR that is stored
// only if it equals pc.never, which keeps the compiler from dropping them;
// a match is harmless (sink is a scratch word nothing reads).
#extension GL_EXT_control_flow_attributes : enable
layout(local_size_x_id = 0) in;
layout(std430, binding = 0) readonly buffer WB { uvec4 W4[]; };
layout(std430, binding = 1) writeonly buffer SB { uint sink[]; };
// Ranges in 16-byte words: [off1, off1 + n1) and [off2, off2 + n2).
layout(push_constant) uniform PC { uint off1, n1, off2, n2, never; } pc;

#define U 4u

void main() {
	uint lanes = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	uint id = gl_GlobalInvocationID.x;
	uint total = pc.n1 + pc.n2;
	uvec4 x = uvec4(0u);
	for (uint i0 = id; i0 < total; i0 += lanes * U) {
		uvec4 w[U];
		[[unroll]] for (uint u = 0u; u < U; u++) {
			uint i = i0 + u * lanes;
			w[u] = i < total ? W4[i < pc.n1 ? pc.off1 + i : pc.off2 + (i - pc.n1)] : uvec4(0u);
		}
		[[unroll]] for (uint u = 0u; u < U; u++) x ^= w[u];
	}
	uint v = x.x ^ x.y ^ x.z ^ x.w;
	if (v == pc.never) sink[0] = v;
}
