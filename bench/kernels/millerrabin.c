/*
 * millerrabin.c: i64 multiply, divide and remainder.
 *
 * Deterministic Miller-Rabin primality test for 32-bit numbers (bases 2, 7
 * and 61 suffice below 4,759,123,141), with the modular multiplications done
 * in u64 (a product of two residues below 2^32 fits). Nearly every operation
 * is an i64.mul followed by an i64.rem_u, the slowest i64 ops to emulate.
 *
 * run(n): tests the n odd numbers starting at 3,000,000,001 and returns
 * (sum of the primes found) * 1000 + (their count), as an i64. Work is
 * linear in n.
 */
#include "common.h"

static u64 mulmod(u64 a, u64 b, u64 m) { return (a * b) % m; }

static u64 powmod(u64 b, u64 e, u64 m) {
  u64 r = 1;
  b %= m;
  while (e) {
    if (e & 1) r = mulmod(r, b, m);
    b = mulmod(b, b, m);
    e >>= 1;
  }
  return r;
}

/* One Miller-Rabin round: does base a fail to witness that odd m = d * 2^s + 1 is composite? */
static int strong_probable_prime(u64 m, u64 a, u64 d, int s) {
  u64 x = powmod(a, d, m);
  if (x == 1 || x == m - 1) return 1;
  for (int i = 1; i < s; i++) {
    x = mulmod(x, x, m);
    if (x == m - 1) return 1;
  }
  return 0;
}

static int is_prime(u64 m) {
  if (m < 2) return 0;
  if (m % 2 == 0) return m == 2;
  u64 d = m - 1;
  int s = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    s++;
  }
  static const u64 bases[3] = {2, 7, 61};
  for (int i = 0; i < 3; i++) {
    if (bases[i] % m == 0) continue;
    if (!strong_probable_prime(m, bases[i], d, s)) return 0;
  }
  return 1;
}

i64 run(i32 n) {
  u64 sum = 0, count = 0;
  u64 m = 3000000001ull;
  for (i32 i = 0; i < n; i++, m += 2) {
    if (is_prime(m)) {
      sum += m;
      count++;
    }
  }
  return (i64)(sum * 1000u + count);
}
