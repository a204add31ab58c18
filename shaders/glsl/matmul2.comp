#version 450
// Y[m, n] = X[m, :] · W[n, :] for many token rows, f16/bf16 weights with
// K % 8 == 0: 64×128 output tiles, 256 invocations each computing 4 rows ×
// 8 columns from 16-wide K slices in shared memory, read as vec4s (3
// shared loads per 32 FMAs; matmul.comp's 4×4 scalar tile needs 8 per 16).
// X is read as vec4s, W as 16-byte words of 8 values.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"

#define BM 64u
#define BN 128u
#define BK 16u
#define PADM (BM + 4u)
#define PADN (BN + 4u)

layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer WB { uvec4 W4[]; };
layout(std430, binding = 1) readonly buffer XB { vec4 X4[]; };
layout(std430, binding = 2) writeonly buffer YB { float Y[]; };
layout(push_constant) uniform PC { uint M, K, N, so; } pc;

shared float Xs[BK * PADM];
shared float Ws[BK * PADN];

vec4 lo16(uvec2 w) {
#ifdef W_bf16
	return vec4(uintBitsToFloat(w.x << 16), uintBitsToFloat(w.x & 0xffff0000u), uintBitsToFloat(w.y << 16), uintBitsToFloat(w.y & 0xffff0000u));
#else
	return vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y));
#endif
}

void main() {
	uint t = gl_LocalInvocationID.x;
	uint tx = t % 16u, ty = t / 16u;
	uint n0 = gl_WorkGroupID.x * BN, m0 = gl_WorkGroupID.y * BM;
	uint K4 = pc.K / 4u, K8 = pc.K / 8u;
	float acc[4][8];
	[[unroll]] for (uint i = 0u; i < 4u; i++)
		[[unroll]] for (uint j = 0u; j < 8u; j++) acc[i][j] = 0.0;
	// Loader roles: X row xm, K quarter xk; W row wn, K half wk.
	uint xm = t / 4u, xk = (t % 4u) * 4u;
	uint wn = t / 2u, wk = (t % 2u) * 8u;
	for (uint k0 = 0u; k0 < pc.K; k0 += BK) {
		uint m = m0 + xm, k = k0 + xk;
		vec4 xv = (m < pc.M && k < pc.K) ? X4[m * K4 + k / 4u] : vec4(0.0);
		uint n = n0 + wn, kw = k0 + wk;
		uvec4 wv = (n < pc.N && kw < pc.K) ? W4[n * K8 + kw / 8u] : uvec4(0u);
		vec4 w0 = lo16(wv.xy), w1 = lo16(wv.zw);
		[[unroll]] for (uint c = 0u; c < 4u; c++) {
			Xs[(xk + c) * PADM + xm] = xv[c];
			Ws[(wk + c) * PADN + wn] = w0[c];
			Ws[(wk + 4u + c) * PADN + wn] = w1[c];
		}
		barrier();
		[[unroll]] for (uint kk = 0u; kk < BK; kk++) {
			vec4 a = vec4(Xs[kk * PADM + ty * 4u], Xs[kk * PADM + ty * 4u + 1u], Xs[kk * PADM + ty * 4u + 2u], Xs[kk * PADM + ty * 4u + 3u]);
			vec4 b0 = vec4(Ws[kk * PADN + tx * 4u], Ws[kk * PADN + tx * 4u + 1u], Ws[kk * PADN + tx * 4u + 2u], Ws[kk * PADN + tx * 4u + 3u]);
			vec4 b1 = vec4(Ws[kk * PADN + 64u + tx * 4u], Ws[kk * PADN + 64u + tx * 4u + 1u], Ws[kk * PADN + 64u + tx * 4u + 2u], Ws[kk * PADN + 64u + tx * 4u + 3u]);
			[[unroll]] for (uint i = 0u; i < 4u; i++) {
				[[unroll]] for (uint j = 0u; j < 4u; j++) {
					acc[i][j] += a[i] * b0[j];
					acc[i][4u + j] += a[i] * b1[j];
				}
			}
		}
		barrier();
	}
	[[unroll]] for (uint i = 0u; i < 4u; i++) {
		uint m = m0 + ty * 4u + i;
		if (m >= pc.M) continue;
		[[unroll]] for (uint j = 0u; j < 8u; j++) {
			uint n = n0 + (j < 4u ? tx * 4u + j : 64u + tx * 4u + j - 4u);
			if (n < pc.N) Y[m * pc.N + n] = acc[i][j];
		}
	}
}
