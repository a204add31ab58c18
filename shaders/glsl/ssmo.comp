#version 450
// The tail of a decode row's Mamba-2 mixer in one dispatch, where it is
// three stages otherwise (ssmscan, gatednorm, the out_proj matvec with its
// residual add): one workgroup per (head h, chunk co of out_proj's rows),
// p = n (the head dim) a multiple of 4 no larger than MAXHD.
//  1. S' = exp(d·A)·S + d·x_g⊗B_g and y = S'·C_h + D·x_g over the head's
//     state, read as 16-byte words four at a time per invocation (every
//     load in flight at once, adjacent invocations on adjacent words), the
//     words' dot products with C summed per row through shared memory;
//  2. g = y ⊙ silu(z), RMS-normalised over the head, times the norm
//     weight, as gatednorm.comp;
//  3. h += out[rows of co, h·p .. h·p + p) · g, into h and the MLP block's
//     copy of h with float atomics (oproj.glsl).
// Every chunk of a head computes the head's step (16 KB of state at the 1B
// shape, read from L2 after the first) to project its rows. The state is
// updated in place, so it is written only once all of the head's
// workgroups have read it: each counts itself done on the head's counter
// (binding 7) after its reads, and the last one computes S' again from the
// untouched old state, stores it and sets the counter back to 0 for the
// next dispatch. No workgroup waits for another.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#extension GL_EXT_shader_atomic_float : require
#extension GL_KHR_shader_subgroup_shuffle : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
#include "reduce.glsl" // after the layout: it reads gl_WorkGroupSize
layout(std430, binding = 0) buffer HB { float H[]; };
layout(std430, binding = 1) buffer SB { float S[]; };
layout(std430, binding = 2) readonly buffer WB { uvec4 W4[]; };
layout(std430, binding = 2) readonly buffer WS { uint W1[]; };
layout(std430, binding = 3) readonly buffer XB { float XBC[]; };
layout(std430, binding = 4) readonly buffer TB { float DT[]; };
layout(std430, binding = 5) buffer STB { vec4 ST4[]; };
layout(std430, binding = 6) readonly buffer ZB { float Z[]; };
layout(std430, binding = 7) buffer CB { uint CNT[]; };
layout(std430, binding = 8) readonly buffer AB { uint A[]; };
layout(std430, binding = 9) readonly buffer BB { uint DTB[]; };
layout(std430, binding = 10) readonly buffer DB { uint DS[]; };
layout(std430, binding = 11) readonly buffer NB { uint NW[]; };
layout(push_constant) uniform PC { uint D, heads, kvHeads, hd, ochunks, so; float eps; uint adt, aso, bdt, bso, ddt, dso, ndt, nso; } pc;

WFETCH_FN(af, A)
WFETCH_FN(bf, DTB)
WFETCH_FN(df, DS)
WFETCH_FN(nf, NW)

#include "ssmmath.glsl"

#define MAXHD 128u
shared float xs[MAXHD], gs[MAXHD];
shared vec4 bs4[MAXHD / 4u], cs4[MAXHD / 4u];
shared float part[MAXHD * MAXHD / 4u]; // per 16-byte word of the state: its dot product with C
shared uint last;

vec4 att4(uint i) { return vec4(gs[4u * i], gs[4u * i + 1u], gs[4u * i + 2u], gs[4u * i + 3u]); }
#include "oproj.glsl"

void main() {
	uint grp = group_id();
	if (grp >= pc.heads * pc.ochunks) return;
	uint h = grp / pc.ochunks, co = grp % pc.ochunks;
	uint t = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
	uint hd = pc.hd, g = h / (pc.heads / pc.kvHeads);
	uint dxb = pc.kvHeads * hd, h4 = hd / 4u, n4 = hd * h4;
	for (uint i = t; i < hd; i += wg) xs[i] = XBC[g * hd + i];
	for (uint i = t; i < h4; i += wg) {
		uint b0 = dxb + g * hd + 4u * i, c0 = 2u * dxb + h * hd + 4u * i;
		bs4[i] = vec4(XBC[b0], XBC[b0 + 1u], XBC[b0 + 2u], XBC[b0 + 3u]);
		cs4[i] = vec4(XBC[c0], XBC[c0 + 1u], XBC[c0 + 2u], XBC[c0 + 3u]);
	}
	barrier();
	float d = softplus(DT[h] + bf(pc.bdt, h, pc.bso));
	float dA = exp_acc(d * af(pc.adt, h, pc.aso));
	uint sb = h * n4; // the head's first word of state
	for (uint v0 = t; v0 < n4; v0 += 4u * wg) {
		vec4 s[4];
		[[unroll]] for (uint k = 0u; k < 4u; k++) {
			uint v = v0 + k * wg;
			s[k] = v < n4 ? ST4[sb + v] : vec4(0.0);
		}
		[[unroll]] for (uint k = 0u; k < 4u; k++) {
			uint v = v0 + k * wg, i = v / h4, c = v % h4;
			if (v < n4) part[v] = dot(dA * s[k] + (d * xs[i]) * bs4[c], cs4[c]);
		}
	}
	barrier();
	float gv = 0.0;
	if (t < hd) {
		float y = df(pc.ddt, h, pc.dso) * xs[t];
		for (uint c = 0u; c < h4; c++) y += part[t * h4 + c];
		gv = y * silu(Z[h * hd + t]);
	}
	float inv = inversesqrt(wg_sum(gv * gv) / float(hd) + pc.eps);
	if (t < hd) gs[t] = gv * inv * nf(pc.ndt, h * hd + t, pc.nso);
	// This workgroup's reads of the state are done (their values are in
	// part): count it, and let the head's last workgroup write S'.
	memoryBarrierBuffer();
	if (t == 0u) last = atomicAdd(CNT[h], 1u) == pc.ochunks - 1u ? 1u : 0u;
	barrier(); // also publishes gs
	if (last != 0u) {
		memoryBarrierBuffer();
		for (uint v = t; v < n4; v += wg) {
			uint i = v / h4, c = v % h4;
			ST4[sb + v] = dA * ST4[sb + v] + (d * xs[i]) * bs4[c];
		}
		if (t == 0u) CNT[h] = 0u;
	}
	oproj(0u, h, co, 1.0);
}
