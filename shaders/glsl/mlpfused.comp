#version 450
// A decode step's whole MLP block for one token row in one dispatch, f16
// weights: h += down(silu(gate(x))·up(x)) with x = RMSNorm(h)·g. It saves
// the dependent stage between gate/up and down (its drain and ramp cost
// ~7 µs on an H200, bench/RESULTS.md "Where a decode stage's time goes")
// without relying on every workgroup being resident at once: each subgroup
// takes rows from two queues (atomic counters) on its own. Phase 1 takes
// gate/up rows, the next row's weights loaded before the current one is
// computed, until its queue is empty; phase 2 takes down rows, and a
// workgroup waits (once, after its subgroups loaded their first down row)
// until every phase-1 row is done. A wait only ever depends on rows that
// running subgroups took, so no co-residency is needed: a workgroup that
// starts late finds the queues empty and ends.
//
// Counters (binding 6; words 0, 32 and 64, on lines of their own) only
// grow: the host passes their values before this dispatch. Every subgroup
// makes exactly one failed take per queue, so a dispatch adds rows +
// subgroups to each queue and the phase-1 rows to the done count (word
// 96: a wait that gave up).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_ballot : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MAXDIM = 8192; // max(D, I): the shared x
layout(std430, binding = 0) readonly buffer GB { uvec4 WG4[]; };
layout(std430, binding = 1) readonly buffer UB { uvec4 WU4[]; };
layout(std430, binding = 2) readonly buffer DB { uvec4 WD4[]; };
layout(std430, binding = 3) readonly buffer NB { vec4 NW4[]; };
layout(std430, binding = 4) coherent buffer HB { float H[]; };
layout(std430, binding = 4) coherent buffer HB4 { vec4 H4[]; };
layout(std430, binding = 5) coherent buffer AB { vec4 A4[]; };
layout(std430, binding = 5) coherent buffer AB1 { float A[]; };
layout(std430, binding = 6) coherent volatile buffer CB { uint cnt[]; };
layout(push_constant) uniform PC { uint D, I; float eps; uint q1, done1, q2, spin; } pc;

#define U 8u
#define Q1 0u
#define DONE1 32u
#define Q2 64u
#define FLAG 96u

shared vec4 xs[MAXDIM / 4u];
shared float part[32];

// take: the subgroup's next row from queue word w (base: its value before
// this dispatch).
uint take(uint w, uint base) {
	uint c = 0u;
	if (subgroupElect()) c = atomicAdd(cnt[w], 1u) - base;
	return subgroupBroadcastFirst(c);
}

vec4 lo16(uvec2 w) { return vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y)); }

// dot8 is word w (8 f16) against x[8·j .. 8·j+7].
float dot8(uvec4 w, uint j) {
	return dot(lo16(w.xy), xs[2u * j]) + dot(lo16(w.zw), xs[2u * j + 1u]);
}

// A gate/up row's words for this lane (one round: D ≤ 8·U·subgroup).
struct Row { uvec4 g[U]; uvec4 u[U]; };

Row load1(uint r, uint nw) {
	Row w;
	uint lane = gl_SubgroupInvocationID, SG = gl_SubgroupSize, base = r * nw;
	[[unroll]] for (uint k = 0u; k < U; k++) {
		uint j = lane + k * SG;
		bool ok = r < pc.I && j < nw;
		w.g[k] = ok ? WG4[base + j] : uvec4(0u);
		w.u[k] = ok ? WU4[base + j] : uvec4(0u);
	}
	return w;
}

void compute1(uint r, uint nw, Row w) {
	uint lane = gl_SubgroupInvocationID, SG = gl_SubgroupSize;
	float g = 0.0, u = 0.0;
	[[unroll]] for (uint k = 0u; k < U; k++) {
		uint j = lane + k * SG;
		if (j < nw) {
			g += dot8(w.g[k], j);
			u += dot8(w.u[k], j);
		}
	}
	g = subgroupAdd(g);
	u = subgroupAdd(u);
	if (subgroupElect()) A[r] = silu(g) * u;
}

void main() {
	uint t = gl_LocalInvocationIndex, wg = gl_WorkGroupSize.x;
	uint lane = gl_SubgroupInvocationID, SG = gl_SubgroupSize;

	// x = RMSNorm(h)·g in shared memory. h is still the input here for any
	// workgroup that goes on to take a phase-1 row: phase 2 writes h only
	// after every phase-1 row is done, that one included.
	float ss = 0.0;
	for (uint i = t; i < pc.D / 4u; i += wg) {
		vec4 v = H4[i];
		ss += dot(v, v);
	}
	ss = subgroupAdd(ss);
	if (subgroupElect()) part[gl_SubgroupID] = ss;
	barrier();
	ss = 0.0;
	for (uint i = 0u; i < gl_NumSubgroups; i++) ss += part[i];
	float inv = inversesqrt(ss / float(pc.D) + pc.eps);
	for (uint i = t; i < pc.D / 4u; i += wg) xs[i] = H4[i] * inv * NW4[i];
	barrier();

	// Phase 1: gate/up rows, two in flight per subgroup.
	uint nw1 = pc.D / 8u, rows1 = 0u;
	uint r0 = take(Q1, pc.q1);
	if (r0 < pc.I) {
		Row a = load1(r0, nw1);
		for (;;) {
			uint r1 = take(Q1, pc.q1);
			Row b_ = load1(r1, nw1);
			compute1(r0, nw1, a);
			rows1++;
			if (r1 >= pc.I) break;
			r0 = take(Q1, pc.q1);
			a = load1(r0, nw1);
			compute1(r1, nw1, b_);
			rows1++;
			if (r0 >= pc.I) break;
		}
	}
	memoryBarrierBuffer();
	if (subgroupElect() && rows1 > 0u) atomicAdd(cnt[DONE1], rows1);

	// Phase 2: down rows (K = I), h[r] += row · act.
	uint nw2 = pc.I / 8u;
	uint r = take(Q2, pc.q2);
	uvec4 w0[U]; // the first round of the row, loaded before the wait
	[[unroll]] for (uint k = 0u; k < U; k++) {
		uint j = lane + k * SG;
		w0[k] = r < pc.D && j < nw2 ? WD4[r * nw2 + j] : uvec4(0u);
	}
	barrier();
	if (t == 0u) {
		for (uint n = 0u; n < pc.spin; n++) {
			if (int(cnt[DONE1] - (pc.done1 + pc.I)) >= 0) break;
			if (n + 1u == pc.spin) atomicOr(cnt[FLAG], 1u);
		}
	}
	barrier();
	memoryBarrierBuffer();
	for (uint i = t; i < pc.I / 4u; i += wg) xs[i] = A4[i];
	barrier();
	while (r < pc.D) {
		uint base = r * nw2;
		float s = 0.0;
		[[unroll]] for (uint k = 0u; k < U; k++) {
			uint j = lane + k * SG;
			if (j < nw2) s += dot8(w0[k], j);
		}
		for (uint j0 = lane + SG * U; j0 < nw2; j0 += SG * U) {
			uvec4 w[U];
			[[unroll]] for (uint k = 0u; k < U; k++) {
				uint j = j0 + k * SG;
				w[k] = j < nw2 ? WD4[base + j] : uvec4(0u);
			}
			[[unroll]] for (uint k = 0u; k < U; k++) {
				uint j = j0 + k * SG;
				if (j < nw2) s += dot8(w[k], j);
			}
		}
		s = subgroupAdd(s);
		if (subgroupElect()) H[r] += s;
		r = take(Q2, pc.q2);
		[[unroll]] for (uint k = 0u; k < U; k++) {
			uint j = lane + k * SG;
			w0[k] = r < pc.D && j < nw2 ? WD4[r * nw2 + j] : uvec4(0u);
		}
	}
}
