/*
 * common.h: shared definitions for the wasmhive benchmark kernels.
 *
 * The kernels are freestanding C (no libc, no imports): each is built into a
 * module that exports `run(n)` and its linear memory, and nothing else.
 */
#ifndef WASMHIVE_BENCH_COMMON_H
#define WASMHIVE_BENCH_COMMON_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef int i32;
typedef unsigned long long u64;
typedef long long i64;

/* Keep a helper out of line so the kernel really pays for the call. */
#define NOINLINE __attribute__((noinline))

/* One step of a 32-bit linear congruential generator (Numerical Recipes constants). */
static inline u32 lcg32(u32 x) { return x * 1664525u + 1013904223u; }

#endif
