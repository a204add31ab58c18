// Shared by ssmchunk_local.comp and ssmchunk_out.comp. Their workgroups are
// 256 invocations forming a 16×16 grid that computes one 64×64 tile of a
// product acc[m][n] = Σ_k TA[k][m]·TB[k][n], KT values of k at a time staged
// in shared memory. Invocation (ty, tx) owns rows m = ty + 16a and columns
// n = tx + 16b (a, b < 4): a subgroup reads consecutive TB columns, and the
// stores of a tile row to global memory are consecutive too.
#define QMAX 64u // the longest chunk: one tile of token rows
#define KT 16u
#define LD 65u // padded stride, so that stores along k spread over the banks

layout(local_size_x = 256) in;

shared float TA[KT * LD], TB[KT * LD];
float acc[16]; // acc[4a + b]: row ty + 16a, column tx + 16b

void acc_zero() {
	[[unroll]] for (uint i = 0u; i < 16u; i++) acc[i] = 0.0;
}

void acc_tiles(uint tx, uint ty) {
	[[unroll]] for (uint k = 0u; k < KT; k++) {
		float va[4], vb[4];
		[[unroll]] for (uint a = 0u; a < 4u; a++) {
			va[a] = TA[k * LD + ty + 16u * a];
			vb[a] = TB[k * LD + tx + 16u * a];
		}
		[[unroll]] for (uint a = 0u; a < 4u; a++)
			[[unroll]] for (uint b = 0u; b < 4u; b++) acc[4u * a + b] += va[a] * vb[b];
	}
}
