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
	vec3 s = vec3(S[c], S[pc.ch + c], S[2u * pc.ch + c]);
	vec4 w = vec4(wf(pc.wdt, 4u * c, pc.wso), wf(pc.wdt, 4u * c + 1u, pc.wso), wf(pc.wdt, 4u * c + 2u, pc.wso), wf(pc.wdt, 4u * c + 3u, pc.wso));
	float b = bf(pc.bdt, c, pc.bso);
	for (uint r = 0u; r < pc.rows; r++) D[r * pc.ch + c] = conv4(s, w, b, X[r * pc.ch + c]);
	S[c] = s.x;
	S[pc.ch + c] = s.y;
	S[2u * pc.ch + c] = s.z;
}
