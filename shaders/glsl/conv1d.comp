#version 450
// Depthwise causal conv of width 4 then SiLU; one invocation per channel walks
// the rows, keeping the last three inputs, and leaves them in the state.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : enable
#include "common.glsl"

layout(local_size_x_id = 0) in;
layout(std430, binding = 0) writeonly buffer DB { float D[]; };
layout(std430, binding = 1) readonly buffer XB { float X[]; };
layout(std430, binding = 2) buffer SB { float S[]; };
layout(std430, binding = 3) readonly buffer WB { uint W[]; };
layout(std430, binding = 4) readonly buffer BB { uint B[]; };
layout(push_constant) uniform PC { uint rows, ch, wdt, wso, bdt, bso; } pc;

WFETCH_FN(wf, W)
WFETCH_FN(bf, B)

void main() {
	uint c = group_id() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
	if (c >= pc.ch) return;
	float s0 = S[c], s1 = S[pc.ch + c], s2 = S[2u * pc.ch + c];
	float w0 = wf(pc.wdt, 4u * c, pc.wso), w1 = wf(pc.wdt, 4u * c + 1u, pc.wso);
	float w2 = wf(pc.wdt, 4u * c + 2u, pc.wso), w3 = wf(pc.wdt, 4u * c + 3u, pc.wso);
	float b = bf(pc.bdt, c, pc.bso);
	for (uint r = 0u; r < pc.rows; r++) {
		float x = X[r * pc.ch + c];
		float v = b + w0 * s0 + w1 * s1 + w2 * s2 + w3 * x;
		D[r * pc.ch + c] = silu(v);
		s0 = s1;
		s1 = s2;
		s2 = x;
	}
	S[c] = s0;
	S[pc.ch + c] = s1;
	S[2u * pc.ch + c] = s2;
}
