/*
 * memops.c: memory bandwidth-style loops of every access width.
 *
 * A 2 MiB buffer is split into 32 blocks of 64 KiB. Each pass works on one
 * block (moving through the buffer, so all of it gets touched): an i32
 * transform into the neighbouring block, an i16 read-modify-write, an
 * overlapping memmove (memory.copy) and a memset (memory.fill) of a slice, and
 * an i64 reduction. Stresses loads and stores of 1, 2, 4 and 8 bytes, bounds
 * checks, and the bulk memory instructions.
 *
 * run(n): n passes; returns the final i64 reduction. Work is linear in n.
 */
#include "common.h"

#define BLOCK (64 * 1024)
#define NBLOCKS 32
static u8 buf[BLOCK * NBLOCKS] __attribute__((aligned(16)));

i64 run(i32 n) {
  u32 x = 99;
  for (i32 i = 0; i < BLOCK * NBLOCKS / 4; i++) {
    x = lcg32(x);
    ((u32 *)buf)[i] = x;
  }
  u64 acc = 0;
  for (i32 p = 0; p < n; p++) {
    i32 b = p % NBLOCKS;
    u8 *src = buf + b * BLOCK;
    u8 *dst = buf + ((b + 1) % NBLOCKS) * BLOCK;

    /* i32 stream: dst = f(src) word by word. */
    u32 *s32 = (u32 *)src, *d32 = (u32 *)dst;
    for (i32 i = 0; i < BLOCK / 4; i++) d32[i] = (s32[i] ^ (s32[i] >> 7)) + (u32)p;

    /* i16 read-modify-write with a neighbour swap. */
    u16 *d16 = (u16 *)dst;
    for (i32 i = 0; i < BLOCK / 2; i++) d16[i] = (u16)(d16[i] + d16[i ^ 1] * 3u);

    /* Bulk ops: overlapping move by 3 bytes, then clear a small slice. */
    __builtin_memmove(dst + 3, dst, BLOCK / 2);
    __builtin_memset(dst + BLOCK / 2 + (p & 255) * 16, p & 0xFF, 1024);

    /* i8 stride and i64 reduction. */
    for (i32 i = 0; i < BLOCK; i += 61) acc += dst[i];
    u64 *d64 = (u64 *)dst;
    for (i32 i = 0; i < BLOCK / 8; i++) acc = (acc ^ d64[i]) * 0x100000001B3ull + (acc >> 29);
  }
  return (i64)acc;
}
