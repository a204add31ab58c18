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

// exp and log1p to a few ulp whatever the driver: the built-in exp is
// specified only to (3 + 2|x|) ulp and log to 2^-21 absolute near 1 (that is,
// a relative error of 1e-3 for log(1 + 1e-3)), while the state carries these
// factors over every token. exp: Cody–Waite reduction by ln 2 and the Cephes
// expf polynomial; log1p(u) for u in [0, 1] as 2·atanh(u/(2+u)), a series in
// s² ≤ 1/9 that needs no log at all.
float exp_acc(float x) {
	x = clamp(x, -87.0, 88.0);
	precise float k = round(x * 1.44269504088896341);
	precise float r = (x - k * 0.693359375) + k * 2.12194440e-4;
	float p = (((((1.9875691500e-4 * r + 1.3981999507e-3) * r + 8.3334519073e-3) * r + 4.1665795894e-2) * r
		+ 1.6666665459e-1) * r + 5.0000001201e-1) * r * r + r + 1.0;
	return ldexp(p, int(k));
}

float log1p_acc(float u) {
	float s = u / (2.0 + u);
	float z = s * s;
	float q = ((((((z * (1.0 / 15.0) + 1.0 / 13.0) * z + 1.0 / 11.0) * z + 1.0 / 9.0) * z + 1.0 / 7.0) * z + 1.0 / 5.0) * z + 1.0 / 3.0) * z;
	return 2.0 * s + 2.0 * s * q;
}

// PyTorch's softplus (threshold 20).
float softplus(float x) { return x > 20.0 ? x : max(x, 0.0) + log1p_acc(exp_acc(-abs(x))); }

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
