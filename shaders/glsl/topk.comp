#version 450
// One pass of a row's top k: workgroup g sorts its group of G candidates in
// shared memory (bitonic, rank order: larger value first, the lower id on
// ties) and writes the best k as (value, id) pairs. The first pass reads
// raw values (ids are their indices); later passes read the pairs the pass
// before wrote, until one group is left, whose k pairs are the answer. The
// final pass writes k values then k ids as floats (exact below 2^24).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

#define NONE 0xffffffffu

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint S = 2048u; // sort size, a power of two ≥ G
layout(std430, binding = 0) writeonly buffer DB { float D[]; };
layout(std430, binding = 1) readonly buffer XB { float X[]; };
// n: candidates in; g: per group; k: kept per group; pairs: X holds
// (value, id bits) pairs; final: the last pass; ioff, ooff: where the
// candidates start in X and the pairs out in D (floats; the passes between
// the first and the last ping-pong between two halves of one buffer).
layout(push_constant) uniform PC { uint n, g, k, pairs, final_, ioff, ooff; } pc;

shared float sv[S];
shared uint si[S];

// before: candidate (va, ia) ranks ahead of (vb, ib).
bool before(float va, uint ia, float vb, uint ib) {
	return va > vb || (va == vb && ia < ib);
}

void main() {
	uint grp = group_id(), t = gl_LocalInvocationID.x, T = gl_WorkGroupSize.x;
	uint c0 = grp * pc.g, c1 = min(pc.n, c0 + pc.g);
	const float NEG_INF = uintBitsToFloat(0xff800000u);
	for (uint i = t; i < S; i += T) {
		uint c = c0 + i;
		if (c < c1) {
			if (pc.pairs != 0u) {
				sv[i] = X[pc.ioff + 2u * c];
				si[i] = floatBitsToUint(X[pc.ioff + 2u * c + 1u]);
			} else {
				sv[i] = X[pc.ioff + c];
				si[i] = c;
			}
		} else {
			sv[i] = NEG_INF;
			si[i] = NONE;
		}
	}
	barrier();
	for (uint k = 2u; k <= S; k <<= 1) {
		for (uint j = k >> 1; j > 0u; j >>= 1) {
			for (uint i = t; i < S; i += T) {
				uint l = i ^ j;
				if (l > i) {
					float vi = sv[i], vl = sv[l];
					uint ii = si[i], il = si[l];
					// Ascending rank within blocks where bit k of i is clear.
					bool swap = (i & k) == 0u ? before(vl, il, vi, ii) : before(vi, ii, vl, il);
					if (swap) {
						sv[i] = vl; sv[l] = vi;
						si[i] = il; si[l] = ii;
					}
				}
			}
			barrier();
		}
	}
	for (uint i = t; i < pc.k; i += T) {
		if (pc.final_ != 0u) {
			D[i] = sv[i];
			D[pc.k + i] = si[i] == NONE ? -1.0 : float(si[i]);
		} else {
			D[pc.ooff + 2u * (grp * pc.k + i)] = sv[i];
			D[pc.ooff + 2u * (grp * pc.k + i) + 1u] = uintBitsToFloat(si[i]);
		}
	}
}
