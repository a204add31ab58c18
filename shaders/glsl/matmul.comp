#version 450
// Y[m, n] = X[m, :] · W[n, :] for many token rows: 64×64 output tiles, 256
// invocations each computing 4×4 outputs from 16-wide K slices staged in
// shared memory (weights decoded to float once per tile).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"

#define BM 64u
#define BN 64u
#define BK 16u

layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer WB { uint W[]; };
layout(std430, binding = 1) readonly buffer XB { float X[]; };
layout(std430, binding = 2) writeonly buffer YB { float Y[]; };
layout(push_constant) uniform PC { uint M, K, N, so; } pc;

WFETCH_FN(wf, W)

shared float Xs[BK][BM + 1u];
shared float Ws[BK][BN + 1u];

void main() {
	uint t = gl_LocalInvocationID.x;
	uint tx = t % 16u, ty = t / 16u;
	uint n0 = gl_WorkGroupID.x * BN, m0 = gl_WorkGroupID.y * BM;
	float acc[4][4];
	[[unroll]] for (uint i = 0u; i < 4u; i++)
		[[unroll]] for (uint j = 0u; j < 4u; j++) acc[i][j] = 0.0;
	for (uint k0 = 0u; k0 < pc.K; k0 += BK) {
		for (uint i = t; i < BM * BK; i += 256u) {
			uint mm = i / BK, kk = i % BK;
			uint m = m0 + mm, k = k0 + kk;
			Xs[kk][mm] = (m < pc.M && k < pc.K) ? X[m * pc.K + k] : 0.0;
		}
		for (uint i = t; i < BN * BK; i += 256u) {
			uint nn = i / BK, kk = i % BK;
			uint n = n0 + nn, k = k0 + kk;
			Ws[kk][nn] = (n < pc.N && k < pc.K) ? wf(WDT, n * pc.K + k, pc.so) : 0.0;
		}
		barrier();
		for (uint kk = 0u; kk < BK; kk++) {
			float a[4], b[4];
			[[unroll]] for (uint i = 0u; i < 4u; i++) a[i] = Xs[kk][ty + 16u * i];
			[[unroll]] for (uint j = 0u; j < 4u; j++) b[j] = Ws[kk][tx + 16u * j];
			[[unroll]] for (uint i = 0u; i < 4u; i++)
				[[unroll]] for (uint j = 0u; j < 4u; j++) acc[i][j] += a[i] * b[j];
		}
		barrier();
	}
	[[unroll]] for (uint i = 0u; i < 4u; i++) {
		uint m = m0 + ty + 16u * i;
		[[unroll]] for (uint j = 0u; j < 4u; j++) {
			uint n = n0 + tx + 16u * j;
			if (m < pc.M && n < pc.N) Y[m * pc.N + n] = acc[i][j];
		}
	}
}
