/*
 * indirect.c: indirect calls through function pointers (call_indirect).
 *
 * A tiny table-driven "bytecode" loop: each step picks one of eight small
 * operations from a function-pointer table by bits of a pseudo-random state
 * and calls it. Stresses call_indirect (table lookup and signature check) and
 * call/return of small functions.
 *
 * run(n): the accumulator after n dispatched operations. Work is linear in n.
 */
#include "common.h"

typedef u32 (*op_fn)(u32 acc, u32 arg);

static NOINLINE u32 op_add(u32 a, u32 b) { return a + b; }
static NOINLINE u32 op_sub(u32 a, u32 b) { return a - b * 3u; }
static NOINLINE u32 op_xor(u32 a, u32 b) { return a ^ (b << 5); }
static NOINLINE u32 op_mul(u32 a, u32 b) { return a * (b | 1u); }
static NOINLINE u32 op_rotl(u32 a, u32 b) { return (a << (b & 31)) | (a >> ((32 - b) & 31)); }
static NOINLINE u32 op_shr(u32 a, u32 b) { return (a >> (b & 7)) + b; }
static NOINLINE u32 op_mix(u32 a, u32 b) { return (a ^ (a >> 16)) * 0x45D9F3Bu + b; }
static NOINLINE u32 op_min(u32 a, u32 b) { return a < b ? b - a : a - b; }

static op_fn table[8] = {op_add, op_sub, op_xor, op_mul, op_rotl, op_shr, op_mix, op_min};

i32 run(i32 n) {
  u32 acc = 1, state = 2463534242u;
  for (i32 i = 0; i < n; i++) {
    /* xorshift32 picks the next operation. */
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    acc = table[state >> 29](acc, (u32)i);
  }
  return (i32)acc;
}
