/*
 * sieve.c: integer arithmetic over a byte array.
 *
 * Sieve of Eratosthenes over a byte-per-number flag array (at most 4 MiB),
 * then a scan that counts the primes and sums them. Stresses i32 compare and
 * branch, i32.store8 with large strides and i32.load8_u in a linear scan
 * (clang turns the clearing loop into i64 stores).
 *
 * run(n): for the primes below n (n is clamped to [2, 2^22]), returns
 * count * 31 + (sum of the primes, wrapped to 32 bits). Work ~ n log log n.
 */
#include "common.h"

#define LIMIT (1 << 22)
static u8 composite[LIMIT];

i32 run(i32 n) {
  if (n < 2) n = 2;
  if (n > LIMIT) n = LIMIT;
  for (i32 i = 0; i < n; i++) composite[i] = 0;
  for (i32 p = 2; p * p < n; p++) {
    if (composite[p]) continue;
    for (i32 m = p * p; m < n; m += p) composite[m] = 1;
  }
  u32 count = 0, sum = 0;
  for (i32 i = 2; i < n; i++) {
    if (!composite[i]) {
      count++;
      sum += (u32)i;
    }
  }
  return (i32)(count * 31u + sum);
}
