/*
 * core_portme.h: wasmhive's port of CoreMark to freestanding wasm32.
 *
 * Not part of the EEMBC sources (those are vendored unchanged next to this
 * file, see UPSTREAM). Written after the upstream `simple` and `barebones`
 * ports: no libc, no WASI, no imports. The module exports `run(n)`, which
 * runs CoreMark's own main() for n iterations with the performance-run seeds
 * (0x0, 0x0, 0x66) and TOTAL_DATA_SIZE 2000 and returns crcfinal together
 * with the outcome of CoreMark's self-validation (see core_portme.c).
 *
 * Time is measured by the host around `run(n)`, so the timer functions here
 * only count calls; CoreMark's own report (and its "must run for 10 s" rule)
 * is not used.
 */
#ifndef CORE_PORTME_H
#define CORE_PORTME_H

#include <stddef.h> /* size_t: a freestanding header provided by the compiler */

/* No floating point in the report (times are measured outside). */
#ifndef HAS_FLOAT
#define HAS_FLOAT 0
#endif
#ifndef HAS_TIME_H
#define HAS_TIME_H 0
#endif
#ifndef USE_CLOCK
#define USE_CLOCK 0
#endif
/* No stdio: ee_printf is ours (core_portme.c) and prints nothing. */
#ifndef HAS_STDIO
#define HAS_STDIO 0
#endif
#ifndef HAS_PRINTF
#define HAS_PRINTF 0
#endif

/* Ticks: a plain counter (see core_portme.c). */
typedef unsigned int CORE_TICKS;

#ifndef COMPILER_VERSION
#ifdef __clang__
#define COMPILER_VERSION "clang " __clang_version__
#else
#define COMPILER_VERSION "unknown compiler"
#endif
#endif
#ifndef COMPILER_FLAGS
#define COMPILER_FLAGS "see bench/coremark/build.sh"
#endif
#ifndef MEM_LOCATION
#define MEM_LOCATION "STATIC"
#endif

/* Data types: wasm32 is ILP32, so a pointer fits an unsigned int. */
typedef signed short   ee_s16;
typedef unsigned short ee_u16;
typedef signed int     ee_s32;
typedef double         ee_f32;
typedef unsigned char  ee_u8;
typedef unsigned int   ee_u32;
typedef ee_u32         ee_ptr_int;
typedef size_t         ee_size_t;

#define align_mem(x) (void *)(4 + (((ee_ptr_int)(x)-1) & ~3))

/* Seeds and the iteration count come from volatile variables that run(n) sets. */
#ifndef SEED_METHOD
#define SEED_METHOD SEED_VOLATILE
#endif

/* The data block is a static array (no malloc). */
#ifndef MEM_METHOD
#define MEM_METHOD MEM_STATIC
#endif

#ifndef MULTITHREAD
#define MULTITHREAD 1
#define USE_PTHREAD 0
#define USE_FORK    0
#define USE_SOCKET  0
#endif

/* main takes no arguments; build.sh renames core_main.c's main to coremark_main. */
#ifndef MAIN_HAS_NOARGC
#define MAIN_HAS_NOARGC 1
#endif
#ifndef MAIN_HAS_NORETURN
#define MAIN_HAS_NORETURN 0
#endif

extern ee_u32 default_num_contexts;

typedef struct CORE_PORTABLE_S
{
    ee_u8 portable_id;
} core_portable;

void portable_init(core_portable *p, int *argc, char *argv[]);
void portable_fini(core_portable *p);

int ee_printf(const char *fmt, ...);

#if !defined(PROFILE_RUN) && !defined(PERFORMANCE_RUN) \
    && !defined(VALIDATION_RUN)
#if (TOTAL_DATA_SIZE == 1200)
#define PROFILE_RUN 1
#elif (TOTAL_DATA_SIZE == 2000)
#define PERFORMANCE_RUN 1
#else
#define VALIDATION_RUN 1
#endif
#endif

#endif /* CORE_PORTME_H */
