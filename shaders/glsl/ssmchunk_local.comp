#version 450
// Chunked Mamba-2 scan, step 1 of 3 (DESIGN.md §4 "Prefill"; the Go side is
// runtime/vulkan/ssmchunk.go). One workgroup per (chunk c, head h) of L ≤ Q
// tokens, with d_s = softplus(dt_s + dtBias[h]) and Λ_t = Σ_{k≤t} d_k·A[h]
// from the chunk's start, computes what needs no earlier chunk:
//   Y[t]   = Σ_{s≤t} (C_t·B_s)·exp(Λ_t−Λ_s)·d_s·x_s + D[h]·x_t
//   SL     = Σ_s exp(Λ_end−Λ_s)·d_s·x_s⊗B_s   (the chunk's state from zero)
//   DEC[t] = exp(Λ_t)
// ssmchunk_pass.comp then carries the state across chunks and
// ssmchunk_out.comp adds exp(Λ_t)·(S_{c−1}·C_t).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"
#include "ssmchunk.glsl"
#include "ssmmath.glsl"

layout(std430, binding = 0) writeonly buffer YB { float Y[]; };
layout(std430, binding = 1) readonly buffer XB { float XBC[]; };
layout(std430, binding = 2) readonly buffer DTIn { float DT[]; };
layout(std430, binding = 3) writeonly buffer SLB { float SL[]; };
layout(std430, binding = 4) writeonly buffer DECB { float DEC[]; };
layout(std430, binding = 5) readonly buffer AB { uint A[]; };
layout(std430, binding = 6) readonly buffer BB { uint DTB[]; };
layout(std430, binding = 7) readonly buffer DB { uint DS[]; };
layout(push_constant) uniform PC { uint rows, heads, kvHeads, hd, q, adt, aso, bdt, bso, ddt, dso; } pc;

WFETCH_FN(af, A)
WFETCH_FN(bf, DTB)
WFETCH_FN(df, DS)

// W[t][s]: first Λ_t−Λ_s, then the weight (C_t·B_s)·exp(Λ_t−Λ_s)·d_s, zero for s > t.
shared float W[QMAX * LD];
shared float sd[QMAX], sdA[QMAX], wend[QMAX];

void main() {
	uint nc = (pc.rows + pc.q - 1u) / pc.q;
	uint gid = group_id();
	if (gid >= nc * pc.heads) return;
	uint c = gid / pc.heads, h = gid % pc.heads;
	uint lid = gl_LocalInvocationID.x, tx = lid % 16u, ty = lid / 16u;
	uint P = pc.hd, N = pc.hd; // state rows (x channels) and columns (B, C channels)
	uint r0 = c * pc.q, L = min(pc.q, pc.rows - r0);
	uint grp = h / (pc.heads / pc.kvHeads);
	uint dxb = pc.kvHeads * pc.hd, width = 2u * dxb + pc.heads * pc.hd;
	uint xo = grp * P, bo = dxb + grp * N, co = 2u * dxb + h * N;

	if (lid < QMAX) {
		float d = 0.0;
		if (lid < L) d = softplus(DT[(r0 + lid) * pc.heads + h] + bf(pc.bdt, h, pc.bso));
		sd[lid] = d;
		sdA[lid] = d * af(pc.adt, h, pc.aso);
	}
	barrier();
	// Λ_t−Λ_s as the sum of d·A over (s, t], not as a difference of running
	// sums: with every term ≤ 0 the sum is exact to (t−s)·u relative, while
	// the difference would lose digits to cancellation once |Λ_t| ≫ |Λ_t−Λ_s|
	// (the sequential scan never does: it multiplies the factors one by one).
	if (lid < L) {
		uint t = lid;
		float seg = 0.0;
		W[t * LD + t] = 0.0;
		for (uint s = t; s > 0u; s--) {
			seg += sdA[s];
			W[t * LD + s - 1u] = seg;
		}
		DEC[(r0 + t) * pc.heads + h] = exp_acc(seg + sdA[0]);
	}
	barrier();
	if (lid < QMAX) wend[lid] = lid < L ? exp_acc(W[(L - 1u) * LD + lid]) * sd[lid] : 0.0;
	barrier();

	// C·Bᵀ over the chunk, then the weights.
	acc_zero();
	for (uint k0 = 0u; k0 < N; k0 += KT) {
		for (uint e = lid; e < KT * QMAX; e += 256u) {
			uint k = e % KT, m = e / KT;
			bool ok = m < L && k0 + k < N;
			uint base = (r0 + m) * width + k0 + k;
			TA[k * LD + m] = ok ? XBC[base + co] : 0.0;
			TB[k * LD + m] = ok ? XBC[base + bo] : 0.0;
		}
		barrier();
		acc_tiles(tx, ty);
		barrier();
	}
	[[unroll]] for (uint a = 0u; a < 4u; a++) {
		[[unroll]] for (uint b = 0u; b < 4u; b++) {
			uint t = ty + 16u * a, s = tx + 16u * b;
			W[t * LD + s] = s <= t && t < L ? acc[4u * a + b] * exp_acc(W[t * LD + s]) * sd[s] : 0.0;
		}
	}
	barrier();

	// Y = W·X + D·x, 64 channels at a time.
	float dsk = df(pc.ddt, h, pc.dso);
	for (uint i0 = 0u; i0 < P; i0 += 64u) {
		acc_zero();
		for (uint s0 = 0u; s0 < L; s0 += KT) {
			for (uint e = lid; e < KT * 64u; e += 256u) {
				uint n = e % 64u, k = e / 64u;
				TB[k * LD + n] = s0 + k < L && i0 + n < P ? XBC[(r0 + s0 + k) * width + xo + i0 + n] : 0.0;
			}
			barrier();
			[[unroll]] for (uint k = 0u; k < KT; k++) {
				float va[4], vb[4];
				[[unroll]] for (uint a = 0u; a < 4u; a++) {
					va[a] = W[(ty + 16u * a) * LD + s0 + k];
					vb[a] = TB[k * LD + tx + 16u * a];
				}
				[[unroll]] for (uint a = 0u; a < 4u; a++)
					[[unroll]] for (uint b = 0u; b < 4u; b++) acc[4u * a + b] += va[a] * vb[b];
			}
			barrier();
		}
		[[unroll]] for (uint a = 0u; a < 4u; a++) {
			[[unroll]] for (uint b = 0u; b < 4u; b++) {
				uint t = ty + 16u * a, i = i0 + tx + 16u * b;
				if (t < L && i < P) {
					uint r = r0 + t;
					Y[(r * pc.heads + h) * P + i] = acc[4u * a + b] + dsk * XBC[r * width + xo + i];
				}
			}
		}
	}

	// SL = (X·wend)ᵀ·B, in 64×64 blocks of the P×N state.
	uint sl = (c * pc.heads + h) * P * N;
	for (uint i0 = 0u; i0 < P; i0 += 64u) {
		for (uint j0 = 0u; j0 < N; j0 += 64u) {
			acc_zero();
			for (uint s0 = 0u; s0 < L; s0 += KT) {
				for (uint e = lid; e < KT * 64u; e += 256u) {
					uint n = e % 64u, k = e / 64u, s = s0 + k;
					uint base = (r0 + s) * width;
					TA[k * LD + n] = s < L && i0 + n < P ? XBC[base + xo + i0 + n] * wend[s] : 0.0;
					TB[k * LD + n] = s < L && j0 + n < N ? XBC[base + bo + j0 + n] : 0.0;
				}
				barrier();
				acc_tiles(tx, ty);
				barrier();
			}
			[[unroll]] for (uint a = 0u; a < 4u; a++) {
				[[unroll]] for (uint b = 0u; b < 4u; b++) {
					uint i = i0 + ty + 16u * a, j = j0 + tx + 16u * b;
					if (i < P && j < N) SL[sl + i * N + j] = acc[4u * a + b];
				}
			}
		}
	}
}
