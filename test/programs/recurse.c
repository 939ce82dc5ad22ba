/*
 * recurse: deep recursion (150,000 frames, each with some shadow-stack
 * space, so the program is linked with a 16 MiB stack) and the Ackermann
 * function.
 */
#include <stdint.h>
#include <stdio.h>

/* Work after the call, and a stack buffer, keep the compiler from turning this into a loop. */
__attribute__((noinline)) static uint64_t descend(uint32_t n, uint64_t acc) {
    volatile unsigned char pad[24];
    pad[n % 24] = (unsigned char)n;
    if (n == 0) return acc;
    uint64_t r = descend(n - 1, acc * 31 + n);
    return (r ^ (r >> 7)) + pad[n % 24];
}

__attribute__((noinline)) static uint32_t ackermann(uint32_t m, uint32_t n) {
    if (m == 0) return n + 1;
    if (n == 0) return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

static uint32_t calls;
__attribute__((noinline)) static int is_even(uint32_t n);
__attribute__((noinline)) static int is_odd(uint32_t n) { calls++; return n == 0 ? 0 : is_even(n - 1); }
__attribute__((noinline)) static int is_even(uint32_t n) { calls++; return n == 0 ? 1 : is_odd(n - 1); }

int main(void) {
    for (uint32_t depth = 1000; depth <= 150000; depth *= 5) {
        printf("descend(%u) = %016llx\n", depth, (unsigned long long)descend(depth, 1));
    }
    printf("descend(150000) = %016llx\n", (unsigned long long)descend(150000, 1));
    for (uint32_t m = 0; m <= 3; m++) {
        for (uint32_t n = 0; n <= 6; n += 2) printf("ackermann(%u, %u) = %u\n", m, n, ackermann(m, n));
    }
    printf("is_even(99999) = %d after %u calls\n", is_even(99999), calls);
    return 0;
}
