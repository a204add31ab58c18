#version 450
// Chunked Mamba-2 scan, step 3 of 3: adds the contribution of the state
// entering each chunk, Y[t] += exp(Λ_t)·(S_{c−1}·C_t), to the intra-chunk
// outputs of ssmchunk_local.comp. One workgroup per (chunk c, head h).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"
#include "ssmchunk.glsl"

layout(std430, binding = 0) buffer YB { float Y[]; };
layout(std430, binding = 1) readonly buffer XB { float XBC[]; };
layout(std430, binding = 2) readonly buffer SLB { float SP[]; }; // S_{c−1} per (chunk, head)
layout(std430, binding = 3) readonly buffer DECB { float DEC[]; };
layout(push_constant) uniform PC { uint rows, heads, kvHeads, hd, q; } pc;

void main() {
	uint nc = (pc.rows + pc.q - 1u) / pc.q;
	uint gid = group_id();
	if (gid >= nc * pc.heads) return;
	uint c = gid / pc.heads, h = gid % pc.heads;
	uint lid = gl_LocalInvocationID.x, tx = lid % 16u, ty = lid / 16u;
	uint P = pc.hd, N = pc.hd;
	uint r0 = c * pc.q, L = min(pc.q, pc.rows - r0);
	uint width = 2u * pc.kvHeads * pc.hd + pc.heads * pc.hd;
	uint co = 2u * pc.kvHeads * pc.hd + h * N;
	uint sp = (c * pc.heads + h) * P * N;
	// acc[t][i] = Σ_j C_t[j]·S_{c−1}[i][j], 64 channels i at a time.
	for (uint i0 = 0u; i0 < P; i0 += 64u) {
		acc_zero();
		for (uint j0 = 0u; j0 < N; j0 += KT) {
			for (uint e = lid; e < KT * 64u; e += 256u) {
				uint k = e % KT, m = e / KT;
				bool in_k = j0 + k < N;
				TA[k * LD + m] = in_k && m < L ? XBC[(r0 + m) * width + co + j0 + k] : 0.0;
				TB[k * LD + m] = in_k && i0 + m < P ? SP[sp + (i0 + m) * N + j0 + k] : 0.0;
			}
			barrier();
			acc_tiles(tx, ty);
			barrier();
		}
		[[unroll]] for (uint a = 0u; a < 4u; a++) {
			uint t = ty + 16u * a;
			if (t >= L) continue;
			uint r = r0 + t;
			float dec = DEC[r * pc.heads + h];
			[[unroll]] for (uint b = 0u; b < 4u; b++) {
				uint i = i0 + tx + 16u * b;
				if (i < P) Y[(r * pc.heads + h) * P + i] += dec * acc[4u * a + b];
			}
		}
	}
}
