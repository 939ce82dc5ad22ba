/*
 * hash64.c: i64 arithmetic.
 *
 * A xorshift64* generator feeds its outputs, byte by byte, into an FNV-1a
 * 64-bit hash. Stresses i64 shifts, xors, ands and multiplies (an engine that
 * keeps an i64 as two 32-bit halves pays most for the 64x64 multiplies).
 *
 * run(n): the FNV-1a 64 hash of n generated 64-bit words (8n bytes),
 * returned as an i64. Work is linear in n.
 */
#include "common.h"

i64 run(i32 n) {
  u64 s = 0x9E3779B97F4A7C15ull;
  u64 h = 0xCBF29CE484222325ull; /* FNV-1a 64 offset basis */
  for (i32 i = 0; i < n; i++) {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    u64 r = s * 0x2545F4914F6CDD1Dull;
    for (int k = 0; k < 8; k++) {
      h ^= (r >> (8 * k)) & 0xFFu;
      h *= 0x00000100000001B3ull; /* FNV-1a 64 prime */
    }
  }
  return (i64)h;
}
