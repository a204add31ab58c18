#version 450
// Sequential Mamba-2 scan. One workgroup per (head h, state row i): its
// invocations own S[h, i, j] for j = t, t+wg, … (up to 4 each, so headDim ≤
// 4·wg) and walk the tokens in order:
//   d = softplus(dt + dtBias[h]); S = exp(d·A[h])·S + d·x_g[i]·B_g;
//   y[h, i] = S[i, :]·C_h + D[h]·x_g[i].
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"

layout(local_size_x_id = 0) in;
#include "reduce.glsl" // after the layout: it reads gl_WorkGroupSize
layout(std430, binding = 0) writeonly buffer YB { float Y[]; };
layout(std430, binding = 1) readonly buffer XB { float XBC[]; };
layout(std430, binding = 2) readonly buffer TB { float DT[]; };
layout(std430, binding = 3) buffer SB { float S[]; };
layout(std430, binding = 4) readonly buffer AB { uint A[]; };
layout(std430, binding = 5) readonly buffer BB { uint DTB[]; };
layout(std430, binding = 6) readonly buffer DB { uint DS[]; };
layout(push_constant) uniform PC { uint rows, heads, kvHeads, hd, adt, aso, bdt, bso, ddt, dso; } pc;

WFETCH_FN(af, A)
WFETCH_FN(bf, DTB)
WFETCH_FN(df, DS)

#include "ssmmath.glsl"

void main() {
	uint g = group_id();
	if (g >= pc.heads * pc.hd) return;
	uint t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
	uint hd = pc.hd;
	uint h = g / hd, i = g % hd;
	uint grp = h / (pc.heads / pc.kvHeads);
	uint dxb = pc.kvHeads * hd;
	uint W = 2u * dxb + pc.heads * hd;
	uint sbase = (h * hd + i) * hd;
	float s[4];
	[[unroll]] for (uint k = 0u; k < 4u; k++) {
		uint j = t + k * wg;
		s[k] = j < hd ? S[sbase + j] : 0.0;
	}
	float a = af(pc.adt, h, pc.aso), dtb = bf(pc.bdt, h, pc.bso), dsk = df(pc.ddt, h, pc.dso);
	for (uint r = 0u; r < pc.rows; r++) {
		uint row = r * W;
		float d = softplus(DT[r * pc.heads + h] + dtb);
		float dA = exp_acc(d * a);
		float xv = XBC[row + grp * hd + i];
		float dx = d * xv;
		float part = 0.0;
		[[unroll]] for (uint k = 0u; k < 4u; k++) {
			uint j = t + k * wg;
			if (j < hd) {
				s[k] = dA * s[k] + dx * XBC[row + dxb + grp * hd + j];
				part += s[k] * XBC[row + 2u * dxb + h * hd + j];
			}
		}
		float y = wg_sum(part);
		if (t == 0u) Y[(r * pc.heads + h) * hd + i] = y + dsk * xv;
	}
	[[unroll]] for (uint k = 0u; k < 4u; k++) {
		uint j = t + k * wg;
		if (j < hd) S[sbase + j] = s[k];
	}
}
