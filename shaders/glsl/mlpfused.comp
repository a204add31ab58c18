#version 450
// A decode step's whole MLP block for one token row in one dispatch, f16
// weights: h += down(silu(gate(x))·up(x)) with x = RMSNorm(h)·g. It saves
// the dependent stage between gate/up and down (its drain and ramp cost
// ~7 µs on an H200, bench/RESULTS.md "Where a decode stage's time goes")
// without relying on every workgroup being resident at once: work is taken
// from two queues (atomic counters) in chunks of one row per subgroup.
// Phase 1 takes gate/up rows until its queue is empty; phase 2 takes down
// rows, loads the first round of the row's weights, and only then waits
// until every phase-1 chunk is done. A workgroup waits only for chunks that
// running workgroups hold, so it needs no co-residency: a workgroup that
// starts late finds the queues empty and ends.
//
// Counters (binding 6, words 0–2) only grow: the host passes the values
// they had before this dispatch (each workgroup makes exactly one failed
// take per queue, so a dispatch adds chunks + workgroups to each queue and
// the phase-1 chunks to the done count).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint MAXDIM = 8192; // max(D, I): the shared x
layout(std430, binding = 0) readonly buffer GB { uvec4 WG4[]; };
layout(std430, binding = 1) readonly buffer UB { uvec4 WU4[]; };
layout(std430, binding = 2) readonly buffer DB { uvec4 WD4[]; };
layout(std430, binding = 3) readonly buffer NB { float NW[]; };
layout(std430, binding = 4) coherent buffer HB { float H[]; };
layout(std430, binding = 5) coherent buffer AB { float A[]; };
layout(std430, binding = 6) coherent volatile buffer CB { uint cnt[]; };
layout(push_constant) uniform PC { uint D, I; float eps; uint q1, done1, q2, spin; } pc;

#define U 8u

shared vec4 xs[MAXDIM / 4u];
shared uint take;
shared float part[32];

// takeChunk: invocation 0 takes the next chunk of queue word w (base: its
// value before this dispatch) for the whole workgroup.
uint takeChunk(uint w, uint base) {
	if (gl_LocalInvocationIndex == 0u) take = atomicAdd(cnt[w], 1u) - base;
	barrier();
	uint c = take;
	barrier();
	return c;
}

float wsum(float v) {
	float s = subgroupAdd(v);
	if (subgroupElect()) part[gl_SubgroupID] = s;
	barrier();
	float t = 0.0;
	for (uint i = 0u; i < gl_NumSubgroups; i++) t += part[i];
	barrier();
	return t;
}

vec4 lo16(uvec2 w) { return vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y)); }

// dot8 is word w (8 f16) against x[8·j .. 8·j+7].
float dot8(uvec4 w, uint j) {
	return dot(lo16(w.xy), xs[2u * j]) + dot(lo16(w.zw), xs[2u * j + 1u]);
}

void main() {
	uint lane = gl_SubgroupInvocationID, SG = gl_SubgroupSize, sgs = gl_NumSubgroups;
	uint t = gl_LocalInvocationIndex, wg = gl_WorkGroupSize.x;
	uint n1 = (pc.I + sgs - 1u) / sgs, n2 = (pc.D + sgs - 1u) / sgs;

	// Phase 1: gate/up rows, one per subgroup per chunk.
	bool haveX = false;
	for (;;) {
		uint c = takeChunk(0u, pc.q1);
		if (c >= n1) break;
		if (!haveX) {
			// x = RMSNorm(h)·g in shared memory. Every phase-1 chunk is
			// done before any phase-2 write to h, and this workgroup's
			// chunk is not done yet: h is still the input here.
			haveX = true;
			float ss = 0.0;
			for (uint i = t; i < pc.D; i += wg) {
				float v = H[i];
				ss += v * v;
			}
			float inv = inversesqrt(wsum(ss) / float(pc.D) + pc.eps);
			for (uint i = t; i < pc.D / 4u; i += wg)
				xs[i] = vec4(H[4u * i], H[4u * i + 1u], H[4u * i + 2u], H[4u * i + 3u]) * inv *
					vec4(NW[4u * i], NW[4u * i + 1u], NW[4u * i + 2u], NW[4u * i + 3u]);
			barrier();
		}
		uint r = c * sgs + gl_SubgroupID;
		if (r < pc.I) {
			uint nw = pc.D / 8u, base = r * nw;
			float g = 0.0, u = 0.0;
			for (uint j0 = lane; j0 < nw; j0 += SG * U) {
				uvec4 wg_[U], wu_[U];
				[[unroll]] for (uint k = 0u; k < U; k++) {
					uint j = j0 + k * SG;
					wg_[k] = j < nw ? WG4[base + j] : uvec4(0u);
					wu_[k] = j < nw ? WU4[base + j] : uvec4(0u);
				}
				[[unroll]] for (uint k = 0u; k < U; k++) {
					uint j = j0 + k * SG;
					if (j < nw) {
						g += dot8(wg_[k], j);
						u += dot8(wu_[k], j);
					}
				}
			}
			g = subgroupAdd(g);
			u = subgroupAdd(u);
			if (subgroupElect()) A[r] = silu(g) * u;
		}
		memoryBarrierBuffer();
		barrier();
		if (t == 0u) atomicAdd(cnt[1], 1u);
	}

	// Phase 2: down rows (K = I), h[r] += row · act.
	bool haveAct = false;
	for (;;) {
		uint c = takeChunk(2u, pc.q2);
		if (c >= n2) break;
		uint r = c * sgs + gl_SubgroupID;
		uint nw = pc.I / 8u, base = r * nw;
		// The first round of this row's weights, before waiting.
		uvec4 w0[U];
		[[unroll]] for (uint k = 0u; k < U; k++) {
			uint j = lane + k * SG;
			w0[k] = r < pc.D && j < nw ? WD4[base + j] : uvec4(0u);
		}
		if (!haveAct) {
			haveAct = true;
			if (t == 0u) {
				for (uint n = 0u; n < pc.spin; n++) {
					if (int(cnt[1] - (pc.done1 + n1)) >= 0) break;
					if (n + 1u == pc.spin) atomicOr(cnt[3], 1u);
				}
			}
			barrier();
			memoryBarrierBuffer();
			for (uint i = t; i < pc.I / 4u; i += wg) xs[i] = vec4(A[4u * i], A[4u * i + 1u], A[4u * i + 2u], A[4u * i + 3u]);
			barrier();
		}
		if (r < pc.D) {
			float s = 0.0;
			[[unroll]] for (uint k = 0u; k < U; k++) {
				uint j = lane + k * SG;
				if (j < nw) s += dot8(w0[k], j);
			}
			for (uint j0 = lane + SG * U; j0 < nw; j0 += SG * U) {
				uvec4 w[U];
				[[unroll]] for (uint k = 0u; k < U; k++) {
					uint j = j0 + k * SG;
					w[k] = j < nw ? WD4[base + j] : uvec4(0u);
				}
				[[unroll]] for (uint k = 0u; k < U; k++) {
					uint j = j0 + k * SG;
					if (j < nw) s += dot8(w[k], j);
				}
			}
			s = subgroupAdd(s);
			if (subgroupElect()) H[r] += s;
		}
	}
}
