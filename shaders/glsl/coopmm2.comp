#version 450
// Y[m, n] = X[m, :] · W[n, :] on the matrix units (VK_NV_cooperative_matrix)
// with shared-memory tiles: X f32 (rounded to f16 — clamped to ±65504 — as
// it is staged, so no conversion pass), W f16 [N, K] (or Q8_0, dequantised
// to f16 as it is staged), fp32 accumulation.
// 256 invocations = eight 32-wide subgroups in a 4 × 2 grid over a 128 × BN
// output tile (BN = 32·TN), each subgroup owning 2 × TN 16×16 accumulators.
// K advances 32 at a time: the next slice is loaded into registers while the
// current one is multiplied from shared memory. Needs K % 32 == 0 and
// N % BN == 0; rows from M on read as zero and are not stored.
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_control_flow_attributes : enable
#extension GL_KHR_shader_subgroup_basic : require

#ifndef TN
#define TN 4u
#endif
#define BM 128u
#define BN (32u * TN)
#define BK 32u
#define LD (BK + 8u) // shared row stride in halves (80 bytes: 16-byte aligned, staggers banks)

layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer WB { uvec4 W4[]; };
#ifdef W_q8
// Q8_0 as the backend repacks it: int8 quants row-major, then one f16 scale
// per 32 values from word so. A K slice of a row is one block: its 32 quants
// (two 16-byte words) and scale are dequantised to f16 as they are staged.
layout(std430, binding = 0) readonly buffer WS { uint W1[]; };
#endif
layout(std430, binding = 1) readonly buffer XB { vec4 X4[]; };
layout(std430, binding = 2) writeonly buffer YB { float Y[]; };
layout(push_constant) uniform PC { uint M, K, N, so; } pc;

shared float16_t As[BM * LD];
shared float16_t Bs[BN * LD];
shared float stage[8u * 256u]; // a 16×16 tile per subgroup for partial row blocks

// Per invocation: 4 vec4 of X (128 rows × 8 vec4) and TN/2 uvec4 of W
// (BN rows × 4 uvec4) per K slice.
vec4 xa[4];
#ifdef W_q8
uvec4 wq; // 16 quants of row tid/2, half c = tid%2 of the slice's block
float wsc;
#else
uvec4 wb[TN / 2u];
#endif

void fetch(uint m0, uint n0, uint k, uint tid) {
	[[unroll]] for (uint i = 0u; i < 4u; i++) {
		uint idx = tid + 256u * i, r = idx / 8u, c = idx % 8u;
		xa[i] = m0 + r < pc.M ? X4[((m0 + r) * pc.K + k) / 4u + c] : vec4(0.0);
	}
#ifdef W_q8
	if (tid < 2u * BN) {
		uint r = tid / 2u, c = tid % 2u, e = (n0 + r) * pc.K + k, bi = e / 32u;
		wq = W4[e / 16u + c];
		wsc = unpackHalf2x16(W1[pc.so + bi / 2u] >> ((bi & 1u) << 4)).x;
	}
#else
	[[unroll]] for (uint i = 0u; i < TN / 2u; i++) {
		uint idx = tid + 256u * i, r = idx / 4u, c = idx % 4u;
		wb[i] = W4[((n0 + r) * pc.K + k) / 8u + c];
	}
#endif
}

void stash(uint tid) {
	[[unroll]] for (uint i = 0u; i < 4u; i++) {
		uint idx = tid + 256u * i, r = idx / 8u, c = idx % 8u;
		vec4 v = clamp(xa[i], -65504.0, 65504.0);
		uint o = r * LD + 4u * c;
		As[o] = float16_t(v.x);
		As[o + 1u] = float16_t(v.y);
		As[o + 2u] = float16_t(v.z);
		As[o + 3u] = float16_t(v.w);
	}
#ifdef W_q8
	if (tid < 2u * BN) {
		uint o = (tid / 2u) * LD + 16u * (tid % 2u);
		[[unroll]] for (uint i = 0u; i < 16u; i++)
			Bs[o + i] = float16_t(float(bitfieldExtract(int(wq[i / 4u]), int(8u * (i % 4u)), 8)) * wsc);
	}
#else
	[[unroll]] for (uint i = 0u; i < TN / 2u; i++) {
		uint idx = tid + 256u * i, r = idx / 4u, c = idx % 4u;
		uint o = r * LD + 8u * c;
		uvec4 w = wb[i];
		f16vec2 p0 = unpackFloat2x16(w.x), p1 = unpackFloat2x16(w.y), p2 = unpackFloat2x16(w.z), p3 = unpackFloat2x16(w.w);
		Bs[o] = p0.x; Bs[o + 1u] = p0.y; Bs[o + 2u] = p1.x; Bs[o + 3u] = p1.y;
		Bs[o + 4u] = p2.x; Bs[o + 5u] = p2.y; Bs[o + 6u] = p3.x; Bs[o + 7u] = p3.y;
	}
#endif
}

void main() {
	uint tid = gl_LocalInvocationID.x, sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
	uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;
	uint sm = sg >> 1, sn = sg & 1u; // this subgroup's 32 × (16·TN) block
	fcoopmatNV<32, gl_ScopeSubgroup, 16, 16> acc[2u * TN];
	[[unroll]] for (uint i = 0u; i < 2u * TN; i++) acc[i] = fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>(0.0);

	fetch(m0, n0, 0u, tid);
	for (uint k = 0u; k < pc.K; k += BK) {
		barrier(); // the previous slice's fragments are loaded
		stash(tid);
		barrier();
		if (k + BK < pc.K) fetch(m0, n0, k + BK, tid); // in flight during the products
		[[unroll]] for (uint kk = 0u; kk < BK; kk += 16u) {
			fcoopmatNV<16, gl_ScopeSubgroup, 16, 16> a[2], b[TN];
			[[unroll]] for (uint i = 0u; i < 2u; i++) coopMatLoadNV(a[i], As, (sm * 32u + 16u * i) * LD + kk, LD, false);
			[[unroll]] for (uint j = 0u; j < TN; j++) coopMatLoadNV(b[j], Bs, (sn * 16u * TN + 16u * j) * LD + kk, LD, true);
			[[unroll]] for (uint i = 0u; i < 2u; i++)
				[[unroll]] for (uint j = 0u; j < TN; j++) acc[i * TN + j] = coopMatMulAddNV(a[i], b[j], acc[i * TN + j]);
		}
	}
	[[unroll]] for (uint i = 0u; i < 2u; i++) {
		uint r0 = m0 + sm * 32u + 16u * i;
		uint c0 = n0 + sn * 16u * TN;
		if (r0 + 16u <= pc.M) {
			[[unroll]] for (uint j = 0u; j < TN; j++) coopMatStoreNV(acc[i * TN + j], Y, r0 * pc.N + c0 + 16u * j, pc.N, false);
		} else if (r0 < pc.M) {
			[[unroll]] for (uint j = 0u; j < TN; j++) {
				coopMatStoreNV(acc[i * TN + j], stage, sg * 256u, 16u, false);
				subgroupMemoryBarrierShared();
				subgroupBarrier();
				for (uint e = lane; e < 256u; e += 32u) {
					uint r = r0 + e / 16u;
					if (r < pc.M) Y[r * pc.N + c0 + 16u * j + e % 16u] = stage[sg * 256u + e];
				}
				subgroupBarrier();
			}
		}
	}
}
