/*
 * matmul.c: memory (loads and stores over a few hundred KiB) and f32.
 *
 * C = A * B for n x n f32 matrices (n clamped to [1, 256]: three matrices of
 * at most 256 KiB each), in i-k-j loop order so the inner loop streams
 * through rows of B and C. Stresses f32.load/f32.store, address arithmetic,
 * and f32 mul/add (which an interpreter must round to single precision).
 *
 * run(n): the sum of C's entries accumulated in f64, as an f64. Work ~ n^3.
 */
#include "common.h"

#define MAXN 256
static float A[MAXN * MAXN], B[MAXN * MAXN], C[MAXN * MAXN];

double run(i32 n) {
  if (n < 1) n = 1;
  if (n > MAXN) n = MAXN;
  u32 x = 42;
  for (i32 i = 0; i < n * n; i++) {
    x = lcg32(x);
    A[i] = (float)((i32)(x >> 16) - 32768) * (1.0f / 32768.0f);
    x = lcg32(x);
    B[i] = (float)((i32)(x >> 16) - 32768) * (1.0f / 32768.0f);
    C[i] = 0.0f;
  }
  for (i32 i = 0; i < n; i++) {
    for (i32 k = 0; k < n; k++) {
      float a = A[i * n + k];
      float *brow = &B[k * n];
      float *crow = &C[i * n];
      for (i32 j = 0; j < n; j++) crow[j] += a * brow[j];
    }
  }
  double sum = 0.0;
  for (i32 i = 0; i < n * n; i++) sum += C[i] * (double)((i % 7) + 1);
  return sum;
}
