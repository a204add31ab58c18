#version 450
// Attention for a few query rows (decode), split over the context
// ("flash-decoding"): one workgroup per (row, head, chunk of CH positions),
// so that a long context spreads over many workgroups instead of looping in
// one per head. Each chunk keeps an online softmax over blocks of the
// workgroup size. With one chunk the result is written to O directly;
// otherwise (max, sum, unnormalised accumulator) go to P and attncomb.comp
// merges them.
//
// VALUES4 (specialisation constant 1, set for the one-pass dispatch that
// covers a short context with one 256-wide workgroup per (row, head)): the
// value sums read 16-byte words, hd/4 lanes per position, so that the more
// positions per workgroup cost fewer serial load rounds. The split path keeps
// the scalar loads it was measured with.
//
// The new rows' keys and values are read from K and V (not the cache) and the
// workgroup of chunk 0 of the first query head of each kv head stores them in
// the cache: no workgroup of this dispatch reads cache positions ≥ pos0, so
// the copy needs no barrier of its own.
//
// OPROJ (built per weight dtype; one pass only): the attention output
// projection and the residual add too, h += W[:, head] · att_head, split
// over the rows of W: workgroup (row, head, row chunk) computes its head's
// attention (each of a head's chunks again: cheap for the short contexts
// it serves), then its rows of W's head columns times it, and adds each
// row's sum into h (binding 0) and into the MLP block's copy of h (binding
// 6) with float atomics.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"

#define MAXHD 256u

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const bool VALUES4 = false;
// KU (constant 3): a position's 16-byte key words loaded before any is used
// (one at a time, the dot product waited on each load in turn).
layout(constant_id = 3) const uint KU = 8u;
#include "reduce.glsl" // after the layout: it reads gl_WorkGroupSize
#ifdef OPROJ
#extension GL_EXT_shader_atomic_float : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
layout(std430, binding = 0) buffer HB { float H[]; };
layout(std430, binding = 6) buffer SB { float S[]; };
layout(std430, binding = 7) readonly buffer WB { uvec4 W4[]; };
layout(std430, binding = 7) readonly buffer WS { uint W1[]; };
layout(push_constant) uniform PC { uint rows, pos0, heads, kvHeads, hd; float scale; uint chunk, nsplit, D, ochunks, so; } pc;
#else
layout(std430, binding = 0) writeonly buffer OB { float O[]; };
layout(std430, binding = 6) writeonly buffer PB { float P[]; };
layout(push_constant) uniform PC { uint rows, pos0, heads, kvHeads, hd; float scale; uint chunk, nsplit; } pc;
#endif
layout(std430, binding = 1) readonly buffer QB { float Q[]; };
layout(std430, binding = 2) buffer KCB { float KC[]; };
layout(std430, binding = 2) buffer KCB4 { vec4 KC4[]; };
layout(std430, binding = 3) buffer VCB { float VC[]; };
layout(std430, binding = 3) buffer VCB4 { vec4 VC4[]; };
layout(std430, binding = 4) readonly buffer KB { float KN[]; };
layout(std430, binding = 4) readonly buffer KB4 { vec4 KN4[]; };
layout(std430, binding = 5) readonly buffer VB { float VN[]; };
layout(std430, binding = 5) readonly buffer VB4 { vec4 VN4[]; };

shared float qs[MAXHD];
shared float acc[MAXHD];
shared float pw[256];
shared float vpart[256];
shared vec4 vpart4[256];

// vrow is value d of position p of this kv head (cache below pos0, else the new rows).
float vrow(uint p, uint kd, uint koff, uint d) {
	return p < pc.pos0 ? VC[p * kd + koff + d] : VN[(p - pc.pos0) * kd + koff + d];
}

// vrow4 is values 4·d4 .. 4·d4+3 of position p (hd % 4 == 0).
vec4 vrow4(uint p, uint kd, uint koff, uint d4) {
	return p < pc.pos0 ? VC4[(p * kd + koff) / 4u + d4] : VN4[((p - pc.pos0) * kd + koff) / 4u + d4];
}

#ifdef OPROJ
vec4 att4(uint i) { return vec4(acc[4u * i], acc[4u * i + 1u], acc[4u * i + 2u], acc[4u * i + 3u]); }
#include "oproj.glsl"
#endif

void main() {
	uint g = group_id();
#ifdef OPROJ
	if (g >= pc.rows * pc.heads * pc.ochunks) return;
	uint t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
	uint c = 0u, co = g % pc.ochunks, rh = g / pc.ochunks;
#else
	if (g >= pc.rows * pc.heads * pc.nsplit) return;
	uint t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
	uint c = g % pc.nsplit, rh = g / pc.nsplit;
	uint co = 0u;
#endif
	uint r = rh / pc.heads, h = rh % pc.heads;
	uint grp = pc.heads / pc.kvHeads, kvh = h / grp;
	uint qbase = rh * pc.hd;
	uint kd = pc.kvHeads * pc.hd, koff = kvh * pc.hd;
	uint L = pc.pos0 + r + 1u;
	if (c == 0u && co == 0u && h % grp == 0u) {
		uint src = r * kd + koff, dst = (pc.pos0 + r) * kd + koff;
		for (uint d = t; d < pc.hd; d += wg) {
			KC[dst + d] = KN[src + d];
			VC[dst + d] = VN[src + d];
		}
	}
	uint c0 = c * pc.chunk;
	if (c0 >= L) return; // the whole workgroup: this row has fewer chunks
	uint c1 = min(L, c0 + pc.chunk);
	for (uint d = t; d < pc.hd; d += wg) {
		qs[d] = Q[qbase + d];
		acc[d] = 0.0;
	}
	barrier();
	float m = -3.0e38, l = 0.0;
	for (uint p0 = c0; p0 < c1; p0 += wg) {
		uint p = p0 + t;
		float s = -3.0e38;
		if (p < c1) {
			float dot_ = 0.0;
			if ((pc.hd & 3u) == 0u) { // 16-byte key loads, KU of them in flight
				uint h4 = pc.hd / 4u;
				bool cached = p < pc.pos0;
				uint kb = cached ? (p * kd + koff) / 4u : ((p - pc.pos0) * kd + koff) / 4u;
				for (uint d0 = 0u; d0 < h4; d0 += KU) {
					vec4 k[KU];
					[[unroll]] for (uint u = 0u; u < KU; u++) {
						uint d = d0 + u;
						if (d >= h4) k[u] = vec4(0.0);
						else if (cached) k[u] = KC4[kb + d];
						else k[u] = KN4[kb + d];
					}
					[[unroll]] for (uint u = 0u; u < KU; u++) {
						uint d = d0 + u;
						if (d < h4) dot_ += dot(vec4(qs[4u * d], qs[4u * d + 1u], qs[4u * d + 2u], qs[4u * d + 3u]), k[u]);
					}
				}
			} else if (p < pc.pos0) {
				uint kb = p * kd + koff;
				for (uint d = 0u; d < pc.hd; d++) dot_ += qs[d] * KC[kb + d];
			} else {
				uint kb = (p - pc.pos0) * kd + koff;
				for (uint d = 0u; d < pc.hd; d++) dot_ += qs[d] * KN[kb + d];
			}
			s = dot_ * pc.scale;
		}
		float mn = max(m, wg_max(s));
		float corr = exp(m - mn);
		float e = p < c1 ? exp(s - mn) : 0.0;
		pw[t] = e;
		l = l * corr + wg_sum(e); // its barriers also publish pw
		uint nb = min(wg, c1 - p0);
		if (VALUES4 && (pc.hd & 3u) == 0u) {
			// G groups of hd/4 lanes take every G-th position, a vec4 of
			// values each, 8 loads in flight; then the groups' sums are added.
			uint h4 = pc.hd / 4u, G = wg / h4;
			vec4 a = vec4(0.0);
			if (t < G * h4) {
				uint d4 = t % h4;
				for (uint j = t / h4; j < nb; j += 8u * G) {
					vec4 v[8];
					[[unroll]] for (uint u = 0u; u < 8u; u++) {
						uint jj = j + u * G;
						v[u] = jj < nb ? pw[jj] * vrow4(p0 + jj, kd, koff, d4) : vec4(0.0);
					}
					[[unroll]] for (uint u = 0u; u < 8u; u++) a += v[u];
				}
			}
			vpart4[t] = a;
			barrier();
			if (t < pc.hd) {
				float sum = acc[t] * corr;
				for (uint g2 = 0u; g2 < G; g2++) sum += vpart4[g2 * h4 + t / 4u][t % 4u];
				acc[t] = sum;
			}
		} else if (pc.hd <= wg) {
			// All invocations: G groups of hd take every G-th position, 8
			// loads in flight each, then the groups' sums are added.
			uint G = wg / pc.hd;
			float a = 0.0;
			if (t < G * pc.hd) {
				uint d = t % pc.hd;
				for (uint j = t / pc.hd; j < nb; j += 8u * G) {
					float v[8];
					[[unroll]] for (uint u = 0u; u < 8u; u++) {
						uint jj = j + u * G;
						v[u] = jj < nb ? pw[jj] * vrow(p0 + jj, kd, koff, d) : 0.0;
					}
					[[unroll]] for (uint u = 0u; u < 8u; u++) a += v[u];
				}
			}
			vpart[t] = a;
			barrier();
			if (t < pc.hd) {
				float sum = acc[t] * corr;
				for (uint g2 = 0u; g2 < G; g2++) sum += vpart[g2 * pc.hd + t];
				acc[t] = sum;
			}
		} else {
			for (uint d = t; d < pc.hd; d += wg) {
				float a = acc[d] * corr;
				for (uint j = 0u; j < nb; j++) a += pw[j] * vrow(p0 + j, kd, koff, d);
				acc[d] = a;
			}
		}
		m = mn;
		barrier();
	}
#ifdef OPROJ
	oproj(r, h, co, 1.0 / l); // acc is final: the loop ended with a barrier
#else
	if (pc.nsplit == 1u) {
		for (uint d = t; d < pc.hd; d += wg) O[qbase + d] = acc[d] / l;
		return;
	}
	uint pb = g * (pc.hd + 2u);
	if (t == 0u) {
		P[pb] = m;
		P[pb + 1u] = l;
	}
	for (uint d = t; d < pc.hd; d += wg) P[pb + 2u + d] = acc[d];
#endif
}
