/*
 * i64: 64-bit integer arithmetic of every kind (hashes, multiplication,
 * signed and unsigned division and remainder, shifts and rotations, bit
 * counts, 128-bit products), printed with %lld, %llu and %llx.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t fnv1a(const void *data, size_t n) {
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, unsigned k) { return (x << (k & 63)) | (x >> ((64 - k) & 63)); }

/* Values that stress division: signs, powers of two, extremes (never INT64_MIN / -1). */
static const int64_t edge[] = {
    0, 1, -1, 2, -2, 3, 7, -7, 10, 1000000007, -1000000007, 0x7fffffffffffffffLL, -0x7fffffffffffffffLL - 1,
    0x100000000LL, -0x100000000LL, 0xffffffffLL, 123456789012345LL, -98765432109876LL, 1LL << 53, (1LL << 53) + 1,
};

int main(void) {
    const char *words[] = {"", "a", "wasm", "hello, world", "The quick brown fox jumps over the lazy dog"};
    for (unsigned i = 0; i < sizeof words / sizeof *words; i++) {
        printf("fnv1a(\"%s\") = %016llx\n", words[i], (unsigned long long)fnv1a(words[i], strlen(words[i])));
    }

    uint64_t s = 42, acc = 0;
    for (int i = 0; i < 100000; i++) acc += splitmix(&s) >> (i & 31);
    printf("splitmix sum = %llu\n", (unsigned long long)acc);

    size_t n = sizeof edge / sizeof *edge;
    int64_t sdiv = 0, srem = 0;
    uint64_t udiv = 0, urem = 0, mul = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            int64_t a = edge[i], b = edge[j];
            mul = mul * 31 + (uint64_t)a * (uint64_t)b;
            if (b == 0) continue;
            if (!(a == INT64_MIN && b == -1)) {
                sdiv += a / b;
                srem ^= a % b;
            }
            udiv += (uint64_t)a / (uint64_t)b;
            urem ^= (uint64_t)a % (uint64_t)b;
        }
    }
    printf("signed div sum = %lld, rem xor = %lld\n", (long long)sdiv, (long long)srem);
    printf("unsigned div sum = %llu, rem xor = %llu\n", (unsigned long long)udiv, (unsigned long long)urem);
    printf("product hash = %llx\n", (unsigned long long)mul);

    for (size_t i = 0; i < 6; i++) {
        int64_t a = edge[i + 7];
        printf("%lld: /3=%lld %%3=%lld >>5=%lld u>>5=%llx <<13=%llx\n", (long long)a, (long long)(a / 3), (long long)(a % 3),
               (long long)(a >> 5), (unsigned long long)((uint64_t)a >> 5), (unsigned long long)((uint64_t)a << 13));
    }

    uint64_t x = 0x0123456789abcdefULL, bits = 0;
    for (unsigned k = 0; k < 200; k++) {
        x = rotl(x, k) ^ (x >> (k % 64)) ^ ((uint64_t)k << (k % 64));
        bits += (uint64_t)__builtin_popcountll(x) + (x ? (uint64_t)__builtin_clzll(x) + (uint64_t)__builtin_ctzll(x) : 0);
    }
    printf("rotate mix = %016llx, bit counts = %llu\n", (unsigned long long)x, (unsigned long long)bits);

    unsigned __int128 wide = (unsigned __int128)0xfedcba9876543210ULL * 0x0f1e2d3c4b5a6978ULL;
    printf("128-bit product = %016llx%016llx\n", (unsigned long long)(wide >> 64), (unsigned long long)wide);

    int64_t m = INT64_MIN, M = INT64_MAX;
    printf("limits: %lld %lld %llu %" PRId64 " %" PRIx64 "\n", (long long)m, (long long)M, (unsigned long long)UINT64_MAX, m + 1, (uint64_t)m);
    return 0;
}
