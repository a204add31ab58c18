#version 450
// attndec.comp's split path for grouped-query attention: one workgroup per
// (row, kv head, chunk) serves all GQ query heads of the kv head, so each key
// and value of the chunk is read once instead of once per query head (the
// cache reads dominate a long context's decode). Each loaded key is dotted
// with the GQ queries kept in shared memory, GQ online softmaxes run side by
// side, and each loaded value feeds GQ weighted sums. The partial results
// (max, sum, unnormalised accumulator) go to P per (row, query head, chunk),
// laid out as attndec's, for attncomb.comp.
//
// Needs the workgroup size WG (specialisation constant 0, set to it), head
// dim ≤ MAXHD and GQ ≤ 8 (the Go side checks them and the shared memory).
//
// The new rows' keys and values are read from K and V (not the cache) and the
// workgroup of chunk 0 of each (row, kv head) stores them in the cache, as
// attndec's does: no workgroup of this dispatch reads cache positions ≥ pos0,
// so the copy needs no barrier of its own.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"

#define MAXHD 128u
#define WG 128u

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint GQ = 4u; // query heads per kv head
layout(std430, binding = 0) writeonly buffer OB { float O[]; };
layout(std430, binding = 1) readonly buffer QB { float Q[]; };
layout(std430, binding = 2) buffer KCB { float KC[]; };
layout(std430, binding = 2) buffer KCB4 { vec4 KC4[]; };
layout(std430, binding = 3) buffer VCB { float VC[]; };
layout(std430, binding = 4) readonly buffer KB { float KN[]; };
layout(std430, binding = 4) readonly buffer KB4 { vec4 KN4[]; };
layout(std430, binding = 5) readonly buffer VB { float VN[]; };
layout(std430, binding = 6) writeonly buffer PB { float P[]; };
layout(push_constant) uniform PC { uint rows, pos0, heads, kvHeads, hd; float scale; uint chunk, nsplit; } pc;

shared float qs[GQ * MAXHD];
shared float pw[GQ * WG];    // per head: scores, then softmax weights, of a block
shared float vpart[GQ * WG]; // per head: value sums of each lane group
shared float red2[GQ * 32u];
shared float gout[GQ];

// group_reduce reduces each head's WG entries of pw (max or sum) into gout,
// all heads at once: 32 lanes per head fold WG/32 entries each, then one
// invocation per head folds the 32. Three barriers where GQ workgroup
// reductions would take 8 each.
void group_reduce(bool mx) {
	uint t = gl_LocalInvocationID.x;
	barrier();
	for (uint i = t; i < GQ * 32u; i += WG) {
		uint gi = i / 32u, ln = i % 32u;
		float a = mx ? -3.0e38 : 0.0;
		for (uint k = ln; k < WG; k += 32u) {
			float x = pw[gi * WG + k];
			a = mx ? max(a, x) : a + x;
		}
		red2[i] = a;
	}
	barrier();
	if (t < GQ) {
		float a = red2[t * 32u];
		for (uint k = 1u; k < 32u; k++) {
			float x = red2[t * 32u + k];
			a = mx ? max(a, x) : a + x;
		}
		gout[t] = a;
	}
	barrier();
}

float vrow(uint p, uint kd, uint koff, uint d) {
	return p < pc.pos0 ? VC[p * kd + koff + d] : VN[(p - pc.pos0) * kd + koff + d];
}

void main() {
	uint g = group_id();
	if (g >= pc.rows * pc.kvHeads * pc.nsplit) return;
	uint t = gl_LocalInvocationID.x;
	uint c = g % pc.nsplit, rk = g / pc.nsplit;
	uint r = rk / pc.kvHeads, kvh = rk % pc.kvHeads;
	uint kd = pc.kvHeads * pc.hd, koff = kvh * pc.hd;
	uint L = pc.pos0 + r + 1u;
	if (c == 0u) {
		uint src = r * kd + koff, dst = (pc.pos0 + r) * kd + koff;
		for (uint d = t; d < pc.hd; d += WG) {
			KC[dst + d] = KN[src + d];
			VC[dst + d] = VN[src + d];
		}
	}
	uint c0 = c * pc.chunk;
	if (c0 >= L) return; // the whole workgroup: this row has fewer chunks
	uint c1 = min(L, c0 + pc.chunk);
	uint h0 = r * pc.heads + kvh * GQ; // first query head's (row, head) index
	for (uint i = t; i < GQ * pc.hd; i += WG) {
		uint gi = i / pc.hd, d = i % pc.hd;
		qs[gi * MAXHD + d] = Q[(h0 + gi) * pc.hd + d];
	}
	barrier();
	float m[GQ], l[GQ], corr[GQ], acc[GQ];
	[[unroll]] for (uint gi = 0u; gi < GQ; gi++) {
		m[gi] = -3.0e38;
		l[gi] = 0.0;
		acc[gi] = 0.0; // invocation t < hd: dimension t of head gi
	}
	uint GP = WG / pc.hd; // lane groups of the value sums
	for (uint p0 = c0; p0 < c1; p0 += WG) {
		uint p = p0 + t;
		float s[GQ];
		[[unroll]] for (uint gi = 0u; gi < GQ; gi++) s[gi] = 0.0;
		if (p < c1) {
			if ((pc.hd & 3u) == 0u) { // 16-byte key loads
				uint h4 = pc.hd / 4u;
				uint kb = p < pc.pos0 ? (p * kd + koff) / 4u : ((p - pc.pos0) * kd + koff) / 4u;
				for (uint d = 0u; d < h4; d++) {
					vec4 kv = p < pc.pos0 ? KC4[kb + d] : KN4[kb + d];
					[[unroll]] for (uint gi = 0u; gi < GQ; gi++) {
						uint qb = gi * MAXHD + 4u * d;
						s[gi] += dot(vec4(qs[qb], qs[qb + 1u], qs[qb + 2u], qs[qb + 3u]), kv);
					}
				}
			} else {
				uint kb = p < pc.pos0 ? p * kd + koff : (p - pc.pos0) * kd + koff;
				for (uint d = 0u; d < pc.hd; d++) {
					float kv = p < pc.pos0 ? KC[kb + d] : KN[kb + d];
					[[unroll]] for (uint gi = 0u; gi < GQ; gi++) s[gi] += qs[gi * MAXHD + d] * kv;
				}
			}
		}
		[[unroll]] for (uint gi = 0u; gi < GQ; gi++) {
			s[gi] = p < c1 ? s[gi] * pc.scale : -3.0e38;
			pw[gi * WG + t] = s[gi];
		}
		group_reduce(true);
		[[unroll]] for (uint gi = 0u; gi < GQ; gi++) {
			float mn = max(m[gi], gout[gi]);
			corr[gi] = exp(m[gi] - mn);
			m[gi] = mn;
			pw[gi * WG + t] = p < c1 ? exp(s[gi] - mn) : 0.0;
		}
		group_reduce(false); // its barriers also publish pw
		[[unroll]] for (uint gi = 0u; gi < GQ; gi++) l[gi] = l[gi] * corr[gi] + gout[gi];
		// GP groups of hd lanes take every GP-th position, 4 loads in flight
		// each, each value weighted for all GQ heads; then the groups' sums
		// are added.
		uint nb = min(WG, c1 - p0);
		float a[GQ];
		[[unroll]] for (uint gi = 0u; gi < GQ; gi++) a[gi] = 0.0;
		if (t < GP * pc.hd) {
			uint d = t % pc.hd;
			for (uint j = t / pc.hd; j < nb; j += 4u * GP) {
				float v[4];
				[[unroll]] for (uint u = 0u; u < 4u; u++) {
					uint jj = j + u * GP;
					v[u] = jj < nb ? vrow(p0 + jj, kd, koff, d) : 0.0;
				}
				[[unroll]] for (uint u = 0u; u < 4u; u++) {
					uint jj = j + u * GP;
					if (jj < nb) {
						[[unroll]] for (uint gi = 0u; gi < GQ; gi++) a[gi] += pw[gi * WG + jj] * v[u];
					}
				}
			}
		}
		[[unroll]] for (uint gi = 0u; gi < GQ; gi++) vpart[gi * WG + t] = a[gi];
		barrier();
		if (t < pc.hd) {
			[[unroll]] for (uint gi = 0u; gi < GQ; gi++) {
				float sum = acc[gi] * corr[gi];
				for (uint g2 = 0u; g2 < GP; g2++) sum += vpart[gi * WG + g2 * pc.hd + t];
				acc[gi] = sum;
			}
		}
		barrier();
	}
	[[unroll]] for (uint gi = 0u; gi < GQ; gi++) {
		uint pb = ((h0 + gi) * pc.nsplit + c) * (pc.hd + 2u);
		if (t == 0u) {
			P[pb] = m[gi];
			P[pb + 1u] = l[gi];
		}
		if (t < pc.hd) P[pb + 2u + t] = acc[gi];
	}
}
