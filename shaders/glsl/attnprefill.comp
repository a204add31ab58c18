#version 450
// Causal attention for many query rows (prefill), tiled: one workgroup of
// 256 invocations per (head, block of 32 query rows) walks the keys in blocks
// of 32 staged in shared memory (keys, then values in the same tile), with an
// online softmax. Invocation t owns query row i = t/8 and, of the 32 keys,
// j ≡ t (mod 8); of the head dims, d ≡ t (mod 8). The new rows are already in
// the caches. Head dim ≤ MAXD (48 KB of shared memory at most).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"

#define BQ 32u
#define BK 32u
#define MAXD 128u

layout(local_size_x = 256) in;
layout(std430, binding = 0) writeonly buffer OB { float O[]; };
layout(std430, binding = 1) readonly buffer QB { float Q[]; };
layout(std430, binding = 2) readonly buffer KB { float KC[]; };
layout(std430, binding = 3) readonly buffer VB { float VC[]; };
layout(push_constant) uniform PC { uint rows, pos0, heads, kvHeads, hd; float scale; } pc;

shared float Qs[BQ * (MAXD + 1u)];
shared float T[BK * (MAXD + 1u)]; // keys, then values
shared float S[BQ * (BK + 1u)];

void main() {
	uint h = gl_WorkGroupID.x, qb = gl_WorkGroupID.y;
	uint t = gl_LocalInvocationID.x;
	uint i = t / 8u, sub = t % 8u;
	uint hd = pc.hd, st = hd + 1u;
	uint kvh = h / (pc.heads / pc.kvHeads);
	uint kd = pc.kvHeads * hd, koff = kvh * hd;
	uint r0 = qb * BQ;
	uint nq = min(BQ, pc.rows - r0);
	for (uint e = t; e < BQ * hd; e += 256u) {
		uint ii = e / hd, d = e % hd;
		Qs[ii * st + d] = ii < nq ? Q[((r0 + ii) * pc.heads + h) * hd + d] * pc.scale : 0.0;
	}
	uint qpos = pc.pos0 + r0 + i; // this invocation's query position
	uint kend = pc.pos0 + r0 + nq; // keys 0..kend-1 are seen by some row
	float m = -3.0e38, l = 0.0;
	float acc[MAXD / 8u];
	[[unroll]] for (uint k = 0u; k < MAXD / 8u; k++) acc[k] = 0.0;
	for (uint k0 = 0u; k0 < kend; k0 += BK) {
		uint nk = min(BK, kend - k0);
		barrier(); // the previous block's values are no longer read
		for (uint e = t; e < BK * hd; e += 256u) {
			uint j = e / hd, d = e % hd;
			T[j * st + d] = j < nk ? KC[(k0 + j) * kd + koff + d] : 0.0;
		}
		barrier();
		[[unroll]] for (uint k = 0u; k < BK / 8u; k++) {
			uint j = sub + 8u * k;
			float s = 0.0;
			for (uint d = 0u; d < hd; d++) s += Qs[i * st + d] * T[j * st + d];
			S[i * (BK + 1u) + j] = (j < nk && k0 + j <= qpos) ? s : -3.0e38;
		}
		barrier();
		float mx = m;
		for (uint j = 0u; j < BK; j++) mx = max(mx, S[i * (BK + 1u) + j]);
		float corr = exp(m - mx);
		barrier(); // all rows' maxima read before the scores are overwritten
		[[unroll]] for (uint k = 0u; k < BK / 8u; k++) {
			uint j = sub + 8u * k;
			float s = S[i * (BK + 1u) + j];
			S[i * (BK + 1u) + j] = s > -1.0e38 ? exp(s - mx) : 0.0;
		}
		for (uint e = t; e < BK * hd; e += 256u) {
			uint j = e / hd, d = e % hd;
			T[j * st + d] = j < nk ? VC[(k0 + j) * kd + koff + d] : 0.0;
		}
		barrier();
		float ps = 0.0;
		for (uint j = 0u; j < BK; j++) ps += S[i * (BK + 1u) + j];
		l = l * corr + ps;
		m = mx;
		[[unroll]] for (uint k = 0u; k < MAXD / 8u; k++) {
			uint d = sub + 8u * k;
			if (d < hd) {
				float a = acc[k] * corr;
				for (uint j = 0u; j < nk; j++) a += S[i * (BK + 1u) + j] * T[j * st + d];
				acc[k] = a;
			}
		}
	}
	if (i < nq) {
		[[unroll]] for (uint k = 0u; k < MAXD / 8u; k++) {
			uint d = sub + 8u * k;
			if (d < hd) O[((r0 + i) * pc.heads + h) * hd + d] = acc[k] / l;
		}
	}
}
