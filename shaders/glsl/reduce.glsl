// Workgroup-wide reductions through shared memory.
// Include it after the local_size layout: gl_WorkGroupSize used earlier
// would be the default (1, 1, 1). Every invocation of the
// workgroup must call them (they contain barriers). The workgroup size must
// be a power of two no larger than 256.
shared float red[256];

float wg_sum(float v) {
	uint t = gl_LocalInvocationID.x;
	red[t] = v;
	barrier();
	for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
		if (t < s) red[t] += red[t + s];
		barrier();
	}
	float r = red[0];
	barrier();
	return r;
}

float wg_max(float v) {
	uint t = gl_LocalInvocationID.x;
	red[t] = v;
	barrier();
	for (uint s = gl_WorkGroupSize.x / 2u; s > 0u; s >>= 1) {
		if (t < s) red[t] = max(red[t], red[t + s]);
		barrier();
	}
	float r = red[0];
	barrier();
	return r;
}
