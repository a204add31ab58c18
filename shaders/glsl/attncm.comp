#version 450
// Causal prefill attention on the matrix units (VK_NV_cooperative_matrix),
// flash-attention style. Workgroup: one query head h and 64 query rows, four
// 32-wide subgroups of 16 rows each. Keys and values come from f16 copies of
// the caches (kept by the backend, rows beyond the context zero or finite);
// q is rounded to f16 after scaling by 1/sqrt(HD)·log2(e), so scores are in
// the log2 domain. Per block of KB keys a subgroup forms S = Q·Kᵀ (fp32),
// runs the online softmax on it in shared memory (two lanes per row), and
// adds P·V (P in f16) to its rows' fp32 outputs, rescaled by the running
// maximum. Only subgroup barriers inside the loop: each subgroup walks the
// keys its own rows need.
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_control_flow_attributes : enable
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require

#ifndef HD
#define HD 64u
#endif
#define KB 64u  // keys per block
#define QR 16u  // query rows per subgroup
#define NSG 4u
#define SW (HD > KB ? HD : KB)

layout(local_size_x = 128) in;
layout(std430, binding = 0) writeonly buffer OB { float O[]; };
layout(std430, binding = 1) readonly buffer QB { float Q[]; };
layout(std430, binding = 2) readonly buffer KH { float16_t Kc[]; };
layout(std430, binding = 3) readonly buffer VH { float16_t Vc[]; };
layout(push_constant) uniform PC { uint rows, pos0, heads, kvHeads; float qscale; } pc;

// The Q tile while it is loaded, then each subgroup's P (QR × KB).
shared float16_t h16[NSG * QR * (HD > KB ? HD : KB)];
// Each subgroup's S (QR × KB), then its P·V (QR × HD).
shared float f32s[NSG * QR * SW];

void main() {
	uint sg = gl_SubgroupID, lane = gl_SubgroupInvocationID, lid = gl_LocalInvocationID.x;
	uint h = gl_WorkGroupID.x, g = h / (pc.heads / pc.kvHeads);
	uint r0 = gl_WorkGroupID.y * (NSG * QR);
	uint qd = pc.heads * HD, kvd = pc.kvHeads * HD;

	for (uint i = lid; i < NSG * QR * HD; i += 128u) {
		uint r = i / HD, d = i % HD;
		float v = r0 + r < pc.rows ? Q[(r0 + r) * qd + h * HD + d] * pc.qscale : 0.0;
		h16[i] = float16_t(clamp(v, -65504.0, 65504.0));
	}
	barrier();
	fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> qf[HD / 16u];
	[[unroll]] for (uint j = 0u; j < HD / 16u; j++) coopMatLoadNV(qf[j], h16, sg * QR * HD + 16u * j, HD, false);
	barrier(); // h16 becomes the subgroups' P
	if (r0 + sg * QR >= pc.rows) return; // subgroup-uniform; no workgroup barriers follow

	uint rr = lane >> 1, half_ = lane & 1u;
	uint qrow = r0 + sg * QR + rr;
	bool live = qrow < pc.rows; // padding rows compute harmless zeros, never stored
	uint qpos = pc.pos0 + qrow;
	uint send = pc.pos0 + min(r0 + sg * QR + QR, pc.rows); // keys this subgroup needs
	uint sbase = sg * QR * SW, pbase = sg * QR * KB;
	const float NEG_INF = uintBitsToFloat(0xff800000u);
	float m = NEG_INF, l = 0.0;
	float o[HD / 2u];
	[[unroll]] for (uint i = 0u; i < HD / 2u; i++) o[i] = 0.0;

	for (uint kb0 = 0u; kb0 < send; kb0 += KB) {
		fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> s[KB / 16u];
		[[unroll]] for (uint n = 0u; n < KB / 16u; n++) s[n] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>(0.0);
		[[unroll]] for (uint j = 0u; j < HD / 16u; j++) {
			[[unroll]] for (uint n = 0u; n < KB / 16u; n++) {
				fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> kf;
				coopMatLoadNV(kf, Kc, (kb0 + 16u * n) * kvd + g * HD + 16u * j, kvd, true);
				s[n] = coopMatMulAddNV(qf[j], kf, s[n]);
			}
		}
		[[unroll]] for (uint n = 0u; n < KB / 16u; n++) coopMatStoreNV(s[n], f32s, sbase + 16u * n, KB, false);
		subgroupMemoryBarrierShared();
		subgroupBarrier();

		float sv[KB / 2u];
		float mx = NEG_INF;
		[[unroll]] for (uint t = 0u; t < KB / 2u; t++) {
			uint c = half_ * (KB / 2u) + t;
			float v = f32s[sbase + rr * KB + c];
			if (live && kb0 + c > qpos) v = NEG_INF; // causal (also every key ≥ send)
			sv[t] = live ? v : 0.0;
			mx = max(mx, sv[t]);
		}
		mx = max(mx, subgroupShuffleXor(mx, 1u));
		float mn = max(m, mx); // finite: key 0 is in every row's first block
		float alpha = exp2(m - mn);
		float sum = 0.0;
		[[unroll]] for (uint t = 0u; t < KB / 2u; t++) {
			float p = exp2(sv[t] - mn);
			sum += p;
			h16[pbase + rr * KB + half_ * (KB / 2u) + t] = float16_t(p);
		}
		sum += subgroupShuffleXor(sum, 1u);
		l = l * alpha + sum;
		m = mn;
		[[unroll]] for (uint i = 0u; i < HD / 2u; i++) o[i] *= alpha;
		subgroupMemoryBarrierShared();
		subgroupBarrier();

		fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> pv[HD / 16u];
		[[unroll]] for (uint n = 0u; n < HD / 16u; n++) pv[n] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>(0.0);
		[[unroll]] for (uint j = 0u; j < KB / 16u; j++) {
			fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> pf;
			coopMatLoadNV(pf, h16, pbase + 16u * j, KB, false);
			[[unroll]] for (uint n = 0u; n < HD / 16u; n++) {
				fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> vf;
				coopMatLoadNV(vf, Vc, (kb0 + 16u * j) * kvd + g * HD + 16u * n, kvd, false);
				pv[n] = coopMatMulAddNV(pf, vf, pv[n]);
			}
		}
		[[unroll]] for (uint n = 0u; n < HD / 16u; n++) coopMatStoreNV(pv[n], f32s, sbase + 16u * n, HD, false);
		subgroupMemoryBarrierShared();
		subgroupBarrier();
		[[unroll]] for (uint i = 0u; i < HD / 2u; i++) o[i] += f32s[sbase + rr * HD + half_ * (HD / 2u) + i];
		subgroupMemoryBarrierShared();
		subgroupBarrier();
	}
	if (live) {
		float inv = 1.0 / l;
		uint ob = qrow * qd + h * HD + half_ * (HD / 2u);
		[[unroll]] for (uint i = 0u; i < HD / 2u; i++) O[ob + i] = o[i] * inv;
	}
}
