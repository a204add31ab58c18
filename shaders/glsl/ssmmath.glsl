// Accurate exp, log1p and softplus, shared by the sequential (ssmscan.comp)
// and chunked (ssmchunk_local.comp) Mamba-2 scans, which must agree.
//
// exp and log1p to a few ulp whatever the driver: the built-in exp is
// specified only to (3 + 2|x|) ulp and log to 2^-21 absolute near 1 (that is,
// a relative error of 1e-3 for log(1 + 1e-3)), while the state carries these
// factors over every token. exp: Cody–Waite reduction by ln 2 and the Cephes
// expf polynomial; log1p(u) for u in [0, 1] as 2·atanh(u/(2+u)), a series in
// s² ≤ 1/9 that needs no log at all.
float exp_acc(float x) {
	x = clamp(x, -87.0, 88.0);
	precise float k = round(x * 1.44269504088896341);
	precise float r = (x - k * 0.693359375) + k * 2.12194440e-4;
	float p = (((((1.9875691500e-4 * r + 1.3981999507e-3) * r + 8.3334519073e-3) * r + 4.1665795894e-2) * r
		+ 1.6666665459e-1) * r + 5.0000001201e-1) * r * r + r + 1.0;
	return ldexp(p, int(k));
}

float log1p_acc(float u) {
	float s = u / (2.0 + u);
	float z = s * s;
	float q = ((((((z * (1.0 / 15.0) + 1.0 / 13.0) * z + 1.0 / 11.0) * z + 1.0 / 9.0) * z + 1.0 / 7.0) * z + 1.0 / 5.0) * z + 1.0 / 3.0) * z;
	return 2.0 * s + 2.0 * s * q;
}

// PyTorch's softplus (threshold 20).
float softplus(float x) { return x > 20.0 ? x : max(x, 0.0) + log1p_acc(exp_acc(-abs(x))); }
