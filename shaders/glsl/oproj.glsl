// A head's share of an output projection with its residual add, for the
// decode blocks that end in one (attndec.comp's OPROJ, ssmo.comp):
// h += W[:, h·hd .. h·hd + hd) · a, split over W's rows, with float atomics
// into H and into the MLP block's copy of h, S. The includer defines the
// buffers H, S (float), W4 and W1 (the weight as uvec4 and uint words), the
// push constants pc.D (W's rows), pc.heads, pc.hd and pc.ochunks (row chunks
// per head) and pc.so (Q8_0 scales), W_<dtype>, and att4(i), vec4 i of a.
#include "words.glsl"

#ifdef W_q8
#define VW 16u
#elif defined(W_f32)
#define VW 4u
#else
#define VW 8u
#endif
// OU (constant 2): W's words that each lane has in flight before it uses
// any (a chunk of 256 f16 rows at hd 64 is one such round): one load per
// lane at a time left the block latency-bound.
layout(constant_id = 2) const uint OU = 8u;

// oproj adds W[i, h·hd .. h·hd + hd) · a, times scale, into H and S for the
// rows i of chunk co, row r of the batch: CW = hd / VW lanes per row, one
// 16-byte word each, their sums meeting through shuffles (the caller makes
// CW a power of two no wider than a subgroup). Every invocation of the
// workgroup calls it.
void oproj(uint r, uint h, uint co, float scale) {
	uint t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
	uint CW = pc.hd / VW, c = t % CW, rpr = wg / CW;
	uint per = (pc.D + pc.ochunks - 1u) / pc.ochunks, i0 = co * per, i1 = min(pc.D, i0 + per);
	uint K = pc.heads * pc.hd, col = h * pc.hd + c * VW;
	for (uint b0 = i0; b0 < i1; b0 += rpr * OU) { // workgroup-uniform bound
		uvec4 w[OU];
#ifdef W_q8
		float sc[OU];
#endif
		[[unroll]] for (uint u = 0u; u < OU; u++) {
			uint i = b0 + t / CW + u * rpr;
			bool ok = i < i1;
			w[u] = ok ? W4[(i * K + col) / VW] : uvec4(0u);
#ifdef W_q8
			uint bi = (i * K + col) >> 5;
			sc[u] = ok ? unpackHalf2x16(W1[pc.so + (bi >> 1)] >> ((bi & 1u) << 4)).x : 0.0;
#endif
		}
		[[unroll]] for (uint u = 0u; u < OU; u++) {
			uint i = b0 + t / CW + u * rpr;
#ifdef W_q8
			uint a = c * 4u;
			float p = sc[u] * (dot(i8x4(w[u].x), att4(a)) + dot(i8x4(w[u].y), att4(a + 1u)) + dot(i8x4(w[u].z), att4(a + 2u)) + dot(i8x4(w[u].w), att4(a + 3u)));
#elif defined(W_f32)
			float p = dot(uintBitsToFloat(w[u]), att4(c));
#else
			float p = dot(lo16(w[u].xy), att4(2u * c)) + dot(lo16(w[u].zw), att4(2u * c + 1u));
#endif
			for (uint m = 1u; m < CW; m <<= 1) p += subgroupShuffleXor(p, m);
			if (i < i1 && c == 0u) {
				atomicAdd(H[r * pc.D + i], p * scale);
				atomicAdd(S[r * pc.D + i], p * scale);
			}
		}
	}
}
