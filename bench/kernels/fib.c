/*
 * fib.c: direct calls.
 *
 * Doubly recursive Fibonacci, about 1.6^n calls of a tiny function.
 * Stresses call/return, frame setup and local access; there is almost no
 * arithmetic. (clang -O2 turns one of the two recursive calls into a loop
 * with an accumulator; the other stays a real call, so calls still grow as
 * ~1.6^n.)
 *
 * run(n): fib(n) (wrapped to 32 bits). Work ~ 1.618^n.
 */
#include "common.h"

static NOINLINE i32 fib(i32 n) {
  if (n < 2) return n;
  return fib(n - 1) + fib(n - 2);
}

i32 run(i32 n) { return fib(n); }
