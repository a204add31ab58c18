// Shared by rope.comp and matvec4.comp (ROPE).
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
