#version 450
// y[r, n] = x[r, :] · w[n, :] for up to 8 token rows (decode), bandwidth-bound:
// one subgroup per output row, blocks of RPW rows per workgroup (grid-stride
// over the blocks when fewer workgroups are launched), and every lane reads
// the weights in 16-byte words (8 f16/bf16 values, 4 f32, or half a Q8_0
// block), U rounds of them before using any, so that enough bytes are in
// flight to fill HBM (≈ 2.5 MB over the H200's 132 SMs). No shared memory, no barriers:
// lanes sum through subgroupAdd. The caller guarantees K % 8 == 0 (f16/bf16),
// K % 4 == 0 (f32); Q8_0 rows are whole 32-value blocks, whose quants are
// 32 bytes at 32·block and whose f16 scale sits at halfword 2·so + block.
//
// NORM: x is RMSNorm(h)·g computed on the fly (h from vec4 xoff on, g the
// f32 norm weight): Σ w·h·g and Σ h² come from the same reads, and the sum
// is scaled by 1/sqrt(mean(h²) + eps) at the end. The matvec then needs no
// barrier after the norm that writes x for other readers.
// SWIGLU: x is silu(gate)·up computed on the fly (gate at binding 1, up at 3),
// likewise beside the SwiGLU dispatch. RESID: also h += y (binding 4), the
// residual Add that follows the projection, without a stage of its own.
// ROPE (with NORM): each subgroup computes a rotate-half pair of rows of one
// head from the same x loads (as ROW2) and stores them rotated (rope.comp's
// RoPE, positions pos0 + r), so the q and k projections need no RoPE stage.
// SPLIT (specialisation constant 3) > 1: SPLIT subgroups share each row,
// each taking every SPLIT-th round of its words, and their sums meet in
// shared memory; the workgroup is then RPW·SPLIT subgroups, one row block
// each. A long row (the down projection's 8192 values, 4 rounds) then
// takes 1/SPLIT of its rounds in sequence per subgroup.
// PAIR (alone or with NORM): the gate and up projections of an
// MLP in one dispatch: each subgroup computes row n of W (binding 0, into Y)
// and of W2 (binding 4, into Y2 at 5) from the same x loads, and writes
// A = silu(Y)·Y2 (binding 6), so that the down projection reads A plainly
// instead of recomputing SwiGLU for every output row.
// ROW2 (alone): each subgroup computes rows n and n + 1 from the same x
// loads, as PAIR does with two matrices: twice the weight bytes in flight
// per lane and half the x loads per weight byte (the lm_head).
// CONV (with NORM): row n is also channel n of a Mamba-2 depthwise causal
// conv of width 4: the rows' results go through it and SiLU into binding 7,
// with the last three inputs kept in the conv state (binding 4; weights at
// 5, bias at 6, of any dtype), as conv1d.comp does; the projection stores
// its plain output too. Each channel is one subgroup's, so the conv needs
// no stage of its own after the in_proj.
// SNAP (with RESID): h is also stored into binding 5, a copy that an MLP
// dispatch (below) reads while it adds into h.
// MLP (with NORM and PAIR): the whole MLP block of up to MAXR decode rows in
// one dispatch, h += down · (silu(gate · n)·(up · n)) with n = RMSNorm(h),
// split over the ffn features: workgroup g computes the FPW (constant 4)
// features from g·FPW on of gate and up (a subgroup per feature, as PAIR),
// keeps their SwiGLU in shared memory, then multiplies the FPW columns of
// down from g·FPW on by them and adds the 2048-odd partial sums into h with
// float atomics. No stage waits for another: the down weights stream as
// soon as a workgroup has its features, where the unfused block drains
// the gate/up stage before down may start. h is read from the copy at
// binding 1 (SNAP), since other workgroups add into h meanwhile, once per
// workgroup into shared memory as x·g (constant 6 is the hidden size).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint RPW = 1;
layout(constant_id = 2) const uint MAXR = 1;
layout(constant_id = 3) const uint SPLIT = 1;
layout(constant_id = 4) const uint FPW = 32; // MLP: features per workgroup
layout(std430, binding = 0) readonly buffer WB { uvec4 W4[]; };
layout(std430, binding = 0) readonly buffer WS { uint W1[]; };
layout(std430, binding = 1) readonly buffer XB { vec4 X4[]; };
#ifdef MLP
#extension GL_EXT_shader_atomic_float : require
#extension GL_KHR_shader_subgroup_shuffle : require
layout(std430, binding = 2) buffer HB { float H[]; };
layout(std430, binding = 5) readonly buffer DB { uvec4 D4[]; };
layout(std430, binding = 5) readonly buffer DS { uint D1[]; };
#else
layout(std430, binding = 2) writeonly buffer YB { float Y[]; };
#endif
#ifdef NORM
layout(std430, binding = 3) readonly buffer GB { vec4 G4[]; };
#ifdef MLP
layout(push_constant) uniform PC { uint rows, K, N, so, xoff; float eps; uint sod; } pc;
#elif defined(ROPE)
layout(std430, binding = 4) readonly buffer FB { float F[]; };
layout(push_constant) uniform PC { uint rows, K, N, so, xoff; float eps; uint pos0, hd; } pc;
#include "sincos.glsl"
#elif defined(CONV)
layout(std430, binding = 4) buffer CSB { float CS[]; };
layout(std430, binding = 5) readonly buffer CWB { uint CWt[]; };
layout(std430, binding = 6) readonly buffer CBB { uint CBt[]; };
layout(std430, binding = 7) writeonly buffer CDB { float CD[]; };
layout(push_constant) uniform PC { uint rows, K, N, so, xoff; float eps; uint wdt, wso, bdt, bso; } pc;
WFETCH_FN(cwf, CWt)
WFETCH_FN(cbf, CBt)
#else
layout(push_constant) uniform PC { uint rows, K, N, so, xoff; float eps; } pc;
#endif
float ss[MAXR];
#else
layout(push_constant) uniform PC { uint rows, K, N, so; } pc;
#endif
#ifdef SWIGLU
layout(std430, binding = 3) readonly buffer UB { vec4 U4[]; };
#endif
#ifdef RESID
layout(std430, binding = 4) buffer HB { float H[]; };
#ifdef SNAP
layout(std430, binding = 5) writeonly buffer SB { float S[]; };
#endif
#endif
#if defined(PAIR) || defined(ROW2) || defined(ROPE)
#define TWO
#endif
#if defined(ROW2) && (defined(NORM) || defined(SWIGLU) || defined(RESID) || defined(PAIR))
#error "ROW2 is built alone"
#endif
#if defined(CONV) && (!defined(NORM) || defined(ROPE) || defined(PAIR) || defined(RESID))
#error "CONV is built with NORM alone"
#endif
#ifdef PAIR
#if defined(SWIGLU) || defined(RESID) || defined(ROPE)
#error "PAIR is built alone or with NORM"
#endif
layout(std430, binding = 4) readonly buffer W2B { uvec4 V4[]; };
layout(std430, binding = 4) readonly buffer W2S { uint V1[]; };
#ifndef MLP
layout(std430, binding = 5) writeonly buffer Y2B { float Y2[]; };
layout(std430, binding = 6) writeonly buffer AB { float A[]; };
#endif
#endif

#ifdef MLP
// KS (constant 6): the hidden size. Every workgroup keeps x·g of its rows
// in shared memory, read once from h, instead of re-reading h and g and
// summing squares for each feature (the block's x traffic was as large as
// its weight traffic for f16, twice it for Q8_0).
layout(constant_id = 6) const uint KS = 2048;
shared vec4 xs[MAXR * KS / 4u];
#endif

// xin is x's vec4 i of token row r.
vec4 xin(uint r, uint i) {
#ifdef MLP
	return xs[r * (pc.K / 4u) + i];
#elif defined(NORM)
	vec4 x = X4[pc.xoff + r * (pc.K / 4u) + i];
	ss[r] += dot(x, x);
	return x * G4[i];
#elif defined(SWIGLU)
	vec4 g = X4[r * (pc.K / 4u) + i];
	return g / (1.0 + exp(-g)) * U4[r * (pc.K / 4u) + i];
#else
	return X4[r * (pc.K / 4u) + i];
#endif
}

// 16-byte words per lane per round: 8, so that a 2048-wide f16 row (256
// words) is one round of one subgroup: latency, not bandwidth, bounds the
// small projections of a decode step. Q8_0 rows are half the bytes: 4 words
// make a 2048-wide row one round without the 4 slots of 8 that would be
// masked off (and fewer registers for the ALU-heavier dequantisation).
#ifdef MLP
// The MLP block's gate/up words per lane per round (constant 7; 0: the
// default, 2): fewer than the plain matvec's, since the block keeps down's
// first round in registers meanwhile. On the H200, 2 cut the f16 block's
// registers from 122 to 79 and its layer tail from ~57 to ~54 µs (Q8_0: 52
// to 49; bench/RESULTS.md, session 5).
layout(constant_id = 7) const uint UA = 0;
const uint U = UA > 0u ? UA : 2u;
#elif defined(W_q8)
#define U 4u
#else
#define U 8u
#endif

#include "words.glsl"

// acc[r] = x[r, :] · w[n, :] for every token row r (with PAIR also
// acc2[r] = x[r, :] · w2[n, :], with ROW2 and ROPE x[r, :] · w[n2, :]),
// summed over the subgroup (every lane ends with the sums).
float acc[MAXR];
#ifdef TWO
float acc2[MAXR];
#endif
void rowdot(uint n, uint n2, uint part) {
#ifdef ROW2
	bool two = n2 < pc.N; // row n2 exists (subgroup-uniform)
#elif defined(ROPE)
	const bool two = true;
#endif
	uint lane = gl_SubgroupInvocationID, SG = gl_SubgroupSize;
	[[unroll]] for (uint r = 0u; r < MAXR; r++) acc[r] = 0.0;
#ifdef TWO
	[[unroll]] for (uint r = 0u; r < MAXR; r++) acc2[r] = 0.0;
#endif
#if defined(NORM) && !defined(MLP)
	[[unroll]] for (uint r = 0u; r < MAXR; r++) ss[r] = 0.0;
#endif
#ifdef W_q8
	// Lane j takes the 16-byte word j of the row's quants (half a block,
	// so that a subgroup's weight loads are contiguous and its x loads span
	// 64 bytes per lane, not 128) and that block's scale.
	uint nw = pc.K / 16u;
	uint base = n * nw;
	for (uint j0 = lane + part * SG * U; j0 < nw; j0 += SG * U * SPLIT) {
		uvec4 q[U];
		float sc[U];
#ifdef TWO
		uvec4 q2[U];
		float sc2[U];
#endif
		[[unroll]] for (uint u = 0u; u < U; u++) {
			uint j = j0 + u * SG, bi = (base + j) >> 1;
			bool ok = j < nw;
			q[u] = ok ? W4[base + j] : uvec4(0u);
			sc[u] = ok ? unpackHalf2x16(W1[pc.so + (bi >> 1)] >> ((bi & 1u) << 4)).x : 0.0;
#ifdef PAIR
			q2[u] = ok ? V4[base + j] : uvec4(0u);
			sc2[u] = ok ? unpackHalf2x16(V1[pc.so + (bi >> 1)] >> ((bi & 1u) << 4)).x : 0.0;
#elif defined(TWO)
			uint bi2 = (n2 * nw + j) >> 1;
			q2[u] = ok && two ? W4[n2 * nw + j] : uvec4(0u);
			sc2[u] = ok && two ? unpackHalf2x16(W1[pc.so + (bi2 >> 1)] >> ((bi2 & 1u) << 4)).x : 0.0;
#endif
		}
		[[unroll]] for (uint u = 0u; u < U; u++) {
			uint j = j0 + u * SG;
			if (j < nw) {
				[[unroll]] for (uint r = 0u; r < MAXR; r++) {
					if (r < pc.rows) {
						uint xb = 4u * j;
						vec4 x0 = xin(r, xb), x1 = xin(r, xb + 1u), x2 = xin(r, xb + 2u), x3 = xin(r, xb + 3u);
						acc[r] += sc[u] * (dot(i8x4(q[u].x), x0) + dot(i8x4(q[u].y), x1) + dot(i8x4(q[u].z), x2) + dot(i8x4(q[u].w), x3));
#ifdef TWO
						acc2[r] += sc2[u] * (dot(i8x4(q2[u].x), x0) + dot(i8x4(q2[u].y), x1) + dot(i8x4(q2[u].z), x2) + dot(i8x4(q2[u].w), x3));
#endif
					}
				}
			}
		}
	}
#else
#ifdef W_f32
	uint nw = pc.K / 4u; // 16-byte words per row
#else
	uint nw = pc.K / 8u;
#endif
	uint base = n * nw;
	for (uint j0 = lane + part * SG * U; j0 < nw; j0 += SG * U * SPLIT) {
		// With PAIR both rows' words are loaded before either is used: twice
		// the bytes in flight per lane, not two latency rounds.
		uvec4 w[U];
#ifdef TWO
		uvec4 w2[U];
#endif
		[[unroll]] for (uint u = 0u; u < U; u++) {
			uint j = j0 + u * SG;
			w[u] = j < nw ? W4[base + j] : uvec4(0u);
#ifdef PAIR
			w2[u] = j < nw ? V4[base + j] : uvec4(0u);
#elif defined(TWO)
			w2[u] = j < nw && two ? W4[n2 * nw + j] : uvec4(0u);
#endif
		}
		[[unroll]] for (uint u = 0u; u < U; u++) {
			uint j = j0 + u * SG;
			if (j < nw) {
				[[unroll]] for (uint r = 0u; r < MAXR; r++) {
					if (r < pc.rows) {
#ifdef W_f32
						vec4 x0 = xin(r, j);
						acc[r] += dot(uintBitsToFloat(w[u]), x0);
#ifdef TWO
						acc2[r] += dot(uintBitsToFloat(w2[u]), x0);
#endif
#else
						vec4 x0 = xin(r, 2u * j), x1 = xin(r, 2u * j + 1u);
						acc[r] += dot(lo16(w[u].xy), x0) + dot(lo16(w[u].zw), x1);
#ifdef TWO
						acc2[r] += dot(lo16(w2[u].xy), x0) + dot(lo16(w2[u].zw), x1);
#endif
#endif
					}
				}
			}
		}
	}
#endif
	[[unroll]] for (uint r = 0u; r < MAXR; r++) {
		if (r < pc.rows) {
			acc[r] = subgroupAdd(acc[r]);
#ifdef TWO
			acc2[r] = subgroupAdd(acc2[r]);
#endif
#if defined(NORM) && !defined(MLP)
			ss[r] = subgroupAdd(ss[r]);
#endif
		}
	}
}

shared float red[RPW * SPLIT * MAXR * 3u];

// sums leaves in acc (and acc2) the whole of row n's dot products: rowdot
// over this subgroup's part when ok (zeros otherwise), the parts of the
// row's SPLIT subgroups added (every subgroup of the workgroup must call
// it: it has barriers), and the norm's scale applied.
void sums(uint n, uint n2, bool ok, uint part) {
	if (ok) {
		rowdot(n, n2, part);
	} else {
		[[unroll]] for (uint r = 0u; r < MAXR; r++) {
			acc[r] = 0.0;
#ifdef TWO
			acc2[r] = 0.0;
#endif
#ifdef NORM
			ss[r] = 0.0;
#endif
		}
	}
	if (SPLIT > 1u) {
		uint slot = gl_SubgroupID, row0 = slot - part;
		if (subgroupElect()) {
			[[unroll]] for (uint r = 0u; r < MAXR; r++) {
				red[(slot * MAXR + r) * 3u] = acc[r];
#ifdef TWO
				red[(slot * MAXR + r) * 3u + 1u] = acc2[r];
#endif
#ifdef NORM
				red[(slot * MAXR + r) * 3u + 2u] = ss[r];
#endif
			}
		}
		barrier();
		[[unroll]] for (uint r = 0u; r < MAXR; r++) {
			acc[r] = 0.0;
#ifdef TWO
			acc2[r] = 0.0;
#endif
#ifdef NORM
			ss[r] = 0.0;
#endif
			for (uint p = 0u; p < SPLIT; p++) {
				acc[r] += red[((row0 + p) * MAXR + r) * 3u];
#ifdef TWO
				acc2[r] += red[((row0 + p) * MAXR + r) * 3u + 1u];
#endif
#ifdef NORM
				ss[r] += red[((row0 + p) * MAXR + r) * 3u + 2u];
#endif
			}
		}
		barrier(); // red is written again by the next row block
	}
#ifdef NORM
	[[unroll]] for (uint r = 0u; r < MAXR; r++) {
		float inv = inversesqrt(ss[r] / float(pc.K) + pc.eps);
		acc[r] *= inv;
#ifdef TWO
		acc2[r] *= inv;
#endif
	}
#endif
}

#ifdef MLP
// Values per 16-byte word of down.
#ifdef W_q8
#define VW 16u
#elif defined(W_f32)
#define VW 4u
#else
#define VW 8u
#endif
#define CW (FPW / VW) // words of a down row's FPW columns: lanes that share a row
// U2 (constant 5): down words per lane per round.
layout(constant_id = 5) const uint U2 = 8;
// PH (constant 8), for timing the block's phases (benchmarks only; wrong
// sums): 1 skips down, 2 skips the gate/up loads (constant activations).
layout(constant_id = 8) const uint PH = 0;
// ROT (constant 9): rows of down per workgroup by which workgroup g's walk
// over them is rotated (g·ROT mod K first), so that the workgroups' atomic
// adds into h do not all land on the same few sectors at the same time.
layout(constant_id = 9) const uint ROT = 0;
shared vec4 act4[MAXR * FPW / 4u]; // [row][feature]
shared float ssp[MAXR * 64u];      // [row][subgroup]: partial sums of squares (≥ 4-wide subgroups)

// Down's words for one round: lane t takes word c = t % CW of the FPW
// columns of rows i0, i0 + rpr, ... (i0 = b0 + t / CW); words past the
// rows or columns are zeros.
uvec4 dq[U2];
#ifdef W_q8
float dsc[U2];
#endif
// drow is down's row for step i of workgroup g's walk (i < K).
uint drow(uint i, uint rot) {
	uint j = i + rot;
	return j >= pc.K ? j - pc.K : j;
}

void downLoad(uint b0, uint t, uint c, uint rpr, uint col, bool colok, uint rot) {
	uint rw = pc.N / VW; // words per down row
	[[unroll]] for (uint u = 0u; u < U2; u++) {
		uint i0 = b0 + t / CW + u * rpr;
		bool ok = colok && i0 < pc.K;
		uint i = drow(i0, rot);
		dq[u] = ok ? D4[i * rw + col / VW] : uvec4(0u);
#ifdef W_q8
		uint bi = (i * pc.N + col) >> 5;
		dsc[u] = ok ? unpackHalf2x16(D1[pc.sod + (bi >> 1)] >> ((bi & 1u) << 4)).x : 0.0;
#endif
	}
}

void mlp() {
	uint f0 = group_id() * FPW;
	uint t = gl_LocalInvocationID.x, WG = gl_WorkGroupSize.x;
	uint c = t % CW, rpr = WG / CW; // rows per round of one word per lane
	uint col = f0 + c * VW;
	bool colok = col < pc.N;
	uint rot = (group_id() * ROT) % pc.K;
	// Down's first round is independent of the features: its loads are in
	// flight while gate and up are computed.
	downLoad(0u, t, c, rpr, col, colok, rot);
	// x·g into shared memory and the rows' sums of squares; the norm's
	// scale is applied to the dot products.
	uint k4 = pc.K / 4u;
	[[unroll]] for (uint r = 0u; r < MAXR; r++) {
		float s = 0.0;
		if (r < pc.rows) {
			for (uint i = t; i < k4; i += WG) {
				vec4 v = X4[pc.xoff + r * k4 + i];
				s += dot(v, v);
				xs[r * k4 + i] = v * G4[i];
			}
		}
		s = subgroupAdd(s);
		if (subgroupElect()) ssp[r * 64u + gl_SubgroupID] = s;
	}
	barrier();
	float inv[MAXR];
	[[unroll]] for (uint r = 0u; r < MAXR; r++) {
		float s = 0.0;
		for (uint g = 0u; g < gl_NumSubgroups; g++) s += ssp[r * 64u + g];
		inv[r] = inversesqrt(s / float(pc.K) + pc.eps);
	}
	// Gate and up: one feature per subgroup at a time, as PAIR.
	for (uint i = gl_SubgroupID; i < FPW; i += gl_NumSubgroups) {
		uint n = f0 + i;
		bool ok = n < pc.N;
		if (ok && PH != 2u) rowdot(n, n, 0u); // subgroup-uniform
		[[unroll]] for (uint r = 0u; r < MAXR; r++) {
			float a = 0.0;
			if (PH == 2u) a = 1e-3 * float(i);
			else if (ok && r < pc.rows) a = silu(acc[r] * inv[r]) * (acc2[r] * inv[r]);
			if (subgroupElect()) act4[(r * FPW + i) / 4u][i % 4u] = a;
		}
	}
	barrier();
	// Down, a round at a time with the next round's loads issued first: the
	// CW lanes of a row sum through shuffles and the first adds the row's
	// partial sum into h. The loop bound is workgroup-uniform and
	// out-of-range words are zeros, so every lane of a row takes part in
	// its shuffles.
	if (PH == 1u) {
		if (t < FPW) atomicAdd(H[t], act4[t / 4u][t % 4u]);
		return;
	}
	for (uint b0 = 0u; b0 < pc.K; b0 += rpr * U2) {
		uvec4 q[U2];
#ifdef W_q8
		float sc[U2];
#endif
		[[unroll]] for (uint u = 0u; u < U2; u++) {
			q[u] = dq[u];
#ifdef W_q8
			sc[u] = dsc[u];
#endif
		}
		if (b0 + rpr * U2 < pc.K) downLoad(b0 + rpr * U2, t, c, rpr, col, colok, rot);
		[[unroll]] for (uint u = 0u; u < U2; u++) {
			uint i0 = b0 + t / CW + u * rpr, i = drow(min(i0, pc.K - 1u), rot);
			[[unroll]] for (uint r = 0u; r < MAXR; r++) {
				if (r < pc.rows) {
					uint a0 = (r * FPW + c * VW) / 4u;
#ifdef W_q8
					float p = sc[u] * (dot(i8x4(q[u].x), act4[a0]) + dot(i8x4(q[u].y), act4[a0 + 1u]) +
						dot(i8x4(q[u].z), act4[a0 + 2u]) + dot(i8x4(q[u].w), act4[a0 + 3u]));
#elif defined(W_f32)
					float p = dot(uintBitsToFloat(q[u]), act4[a0]);
#else
					float p = dot(lo16(q[u].xy), act4[a0]) + dot(lo16(q[u].zw), act4[a0 + 1u]);
#endif
					for (uint m = 1u; m < CW; m <<= 1) p += subgroupShuffleXor(p, m);
					if (c == 0u && i0 < pc.K) atomicAdd(H[r * pc.K + i], p);
				}
			}
		}
	}
}
#endif

void main() {
#ifdef MLP
	mlp();
#else
#if defined(ROPE)
	uint nr = pc.N / 2u; // rotation pairs
#elif defined(ROW2)
	uint nr = (pc.N + 1u) / 2u; // pairs of rows
#else
	uint nr = pc.N;
#endif
	// Blocks of RPW rows (pairs), grid-stride: the caller may launch fewer
	// workgroups than blocks (Backend.mvCap), each then taking every
	// stride-th block. The loop bounds are workgroup- or subgroup-uniform,
	// so subgroupAdd in rowdot sees whole subgroups (and, with SPLIT, every
	// subgroup meets the barriers: it takes exactly one row of each block).
	uint stride = gl_NumWorkGroups.x * gl_NumWorkGroups.y;
	uint part = gl_SubgroupID % SPLIT, first = gl_SubgroupID / SPLIT;
	uint step = SPLIT > 1u ? RPW : gl_NumSubgroups;
	for (uint blk = group_id(); blk * RPW < nr; blk += stride) {
		for (uint i = first; i < RPW; i += step) {
			uint n = blk * RPW + i;
			bool ok = n < nr;
			if (SPLIT == 1u && !ok) break; // subgroup-uniform; the block's later rows are past nr too
#ifdef ROPE
			// Subgroup n computes the rotation pair (j, j + hd/2) of head h.
			uint half_ = pc.hd / 2u;
			uint h = n / half_, j = n % half_;
			uint n1 = h * pc.hd + j, n2 = n1 + half_;
			// Both rows from the same loads of x: one round trip, not two.
			sums(n1, n2, ok, part);
			[[unroll]] for (uint r = 0u; r < MAXR; r++) {
				if (ok && part == 0u && r < pc.rows) {
					float s, c;
					sin_cos(float(pc.pos0 + r) * F[j], s, c);
					if (subgroupElect()) {
						Y[r * pc.N + n1] = acc[r] * c - acc2[r] * s;
						Y[r * pc.N + n2] = acc2[r] * c + acc[r] * s;
					}
				}
			}
#elif defined(ROW2)
			sums(2u * n, 2u * n + 1u, ok, part);
			[[unroll]] for (uint r = 0u; r < MAXR; r++) {
				if (ok && part == 0u && r < pc.rows && subgroupElect()) {
					Y[r * pc.N + 2u * n] = acc[r];
					if (2u * n + 1u < pc.N) Y[r * pc.N + 2u * n + 1u] = acc2[r];
				}
			}
#else
			sums(n, n, ok, part);
			[[unroll]] for (uint r = 0u; r < MAXR; r++) {
				if (ok && part == 0u && r < pc.rows && subgroupElect()) {
					Y[r * pc.N + n] = acc[r];
#ifdef PAIR
					// Y and Y2 are stored too: the caller may read the gate and
					// up buffers later (the backend cannot know it will not).
					Y2[r * pc.N + n] = acc2[r];
					A[r * pc.N + n] = silu(acc[r]) * acc2[r];
#endif
#ifdef RESID
					float hv = H[r * pc.N + n] + acc[r];
					H[r * pc.N + n] = hv;
#ifdef SNAP
					S[r * pc.N + n] = hv;
#endif
#endif
				}
			}
#ifdef CONV
			if (ok && part == 0u && subgroupElect()) {
				uint c = n, ch = pc.N;
				vec3 s = vec3(CS[c], CS[ch + c], CS[2u * ch + c]);
				vec4 w = vec4(cwf(pc.wdt, 4u * c, pc.wso), cwf(pc.wdt, 4u * c + 1u, pc.wso), cwf(pc.wdt, 4u * c + 2u, pc.wso), cwf(pc.wdt, 4u * c + 3u, pc.wso));
				float bias = cbf(pc.bdt, c, pc.bso);
				[[unroll]] for (uint r = 0u; r < MAXR; r++) {
					if (r < pc.rows) CD[r * ch + c] = conv4(s, w, bias, acc[r]);
				}
				CS[c] = s.x;
				CS[ch + c] = s.y;
				CS[2u * ch + c] = s.z;
			}
#endif
#endif
		}
	}
#endif // MLP
}
