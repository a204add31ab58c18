// Decoding of 16-byte weight words, shared by the decode matvecs
// (matvec4.comp) and the blocks that end in an output projection
// (oproj.glsl). W_bf16 selects bf16 halves for lo16, else f16.

// lo16 is the four 16-bit floats of two words.
vec4 lo16(uvec2 w) {
#ifdef W_bf16
	return vec4(uintBitsToFloat(w.x << 16), uintBitsToFloat(w.x & 0xffff0000u), uintBitsToFloat(w.y << 16), uintBitsToFloat(w.y & 0xffff0000u));
#else
	return vec4(unpackHalf2x16(w.x), unpackHalf2x16(w.y));
#endif
}

// Four int8 as floats without int-to-float conversions (quarter rate on
// NVIDIA, which bound the Q8_0 matvec at ~900 GB/s on an H200): the biased
// byte u = q + 128 under the exponent of 2^23 is the float 2^23 + u, and
// subtracting 2^23 + 128 leaves q exactly.
vec4 i8x4(uint w) {
	uint u = w ^ 0x80808080u;
	return uintBitsToFloat(uvec4(u & 0xffu, (u >> 8) & 0xffu, (u >> 16) & 0xffu, u >> 24) | 0x4b000000u) - 8388736.0;
}
