/*
 * mandelbrot.c: f64 arithmetic.
 *
 * Escape-time iteration of z := z^2 + c over an n x n grid covering
 * [-2.0, 0.5] x [-1.25, 1.25], at most 100 iterations per point. Stresses
 * f64 mul/add/sub/compare, i32<->f64 conversion, and a tight loop with a
 * data-dependent exit.
 *
 * run(n): total iteration count over the n x n grid plus the number of points
 * that stayed bounded, wrapped to 32 bits. Work ~ n^2.
 */
#include "common.h"

#define MAX_ITER 100

i32 run(i32 n) {
  if (n < 1) return 0;
  u32 total = 0, inside = 0;
  double step_x = 2.5 / n, step_y = 2.5 / n;
  for (i32 py = 0; py < n; py++) {
    double ci = -1.25 + py * step_y;
    for (i32 px = 0; px < n; px++) {
      double cr = -2.0 + px * step_x;
      double zr = 0.0, zi = 0.0, zr2 = 0.0, zi2 = 0.0;
      i32 it = 0;
      while (it < MAX_ITER && zr2 + zi2 <= 4.0) {
        zi = 2.0 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
        zr2 = zr * zr;
        zi2 = zi * zi;
        it++;
      }
      total += (u32)it;
      if (it == MAX_ITER) inside++;
    }
  }
  return (i32)(total + inside);
}
