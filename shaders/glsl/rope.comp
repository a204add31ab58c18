#version 450
// Rotate-half RoPE in place: for each row r, head h and pair j < headDim/2,
// θ = (pos0 + r) · invFreq[j] in float32 (as HF computes it), then
// (x[j], x[j+d/2]) ← (x[j]·cos θ − x[j+d/2]·sin θ, x[j+d/2]·cos θ + x[j]·sin θ).
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) buffer XB { float X[]; };
layout(std430, binding = 1) readonly buffer FB { float F[]; };
layout(push_constant) uniform PC { uint rows, heads, hd, pos0; } pc;

#include "sincos.glsl"

void main() {
	uint half_ = pc.hd / 2u;
	uint i = group_id() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
	if (i >= pc.rows * pc.heads * half_) return;
	uint j = i % half_, rh = i / half_;
	uint r = rh / pc.heads;
	uint base = rh * pc.hd;
	float s, c;
	sin_cos(float(pc.pos0 + r) * F[j], s, c);
	float a = X[base + j], b = X[base + j + half_];
	X[base + j] = a * c - b * s;
	X[base + j + half_] = b * c + a * s;
}
