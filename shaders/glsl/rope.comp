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

// sin and cos to about one ulp for |x| < 65536·π/2: the built-in functions
// are only specified to 2^-11 absolute error on [-π, π], and positions reach
// thousands of radians. Cody–Waite reduction by π/2 (three-part constant
// whose leading parts multiply k exactly), then the Cephes single-precision
// polynomials on [-π/4, π/4].
void sin_cos(float x, out float s, out float c) {
	precise float k = round(x * 0.636619772367581343);
	precise float r = ((x - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.54978995489188216e-8;
	float z = r * r;
	float sp = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
	float cp = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
	int q = int(k) & 3;
	if (q == 0) { s = sp; c = cp; }
	else if (q == 1) { s = cp; c = -sp; }
	else if (q == 2) { s = -sp; c = -cp; }
	else { s = -cp; c = sp; }
}

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
