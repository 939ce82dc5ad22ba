/*
 * bigmalloc: large allocations (tens of MiB), realloc growth that must keep
 * the contents, calloc zeroing, memset, memcpy and memmove, with checksums.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv(const unsigned char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i += 61) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/*
 * What byte i of the growing block holds: the first KiB is written byte by
 * byte before any realloc; after each growth the new part is memset to 0xa5
 * and every byte at a multiple of 61 is set (cheaper than a byte loop).
 */
static unsigned char expected(size_t i) {
    if (i < 1024) return (unsigned char)(i * 7);
    return i % 61 == 0 ? (unsigned char)(i * 13) : 0xa5;
}

int main(void) {
    const size_t big = 48u << 20;
    unsigned char *a = malloc(big);
    if (!a) { printf("malloc(%zu) failed\n", big); return 1; }
    for (size_t i = 0; i < big; i += 4096) a[i] = (unsigned char)(i >> 12);
    memset(a + 1, 0x5a, 1 << 20);
    printf("48 MiB block: checksum %016llx\n", (unsigned long long)fnv(a, big));

    unsigned char *b = malloc(big / 2);
    memcpy(b, a + big / 4, big / 2);
    printf("memcpy 24 MiB: equal=%d checksum %016llx\n", memcmp(b + big / 2 - 65536, a + big / 4 + big / 2 - 65536, 65536) == 0 && fnv(b, big / 2) == fnv(a + big / 4, big / 2), (unsigned long long)fnv(b, big / 2));
    memmove(a + 100, a, 8u << 20);
    printf("memmove overlapping 8 MiB: checksum %016llx\n", (unsigned long long)fnv(a, big));
    free(b);

    size_t size = 1024;
    unsigned char *r = malloc(size);
    for (size_t i = 0; i < size; i++) r[i] = expected(i);
    int intact = 1;
    while (size < (32u << 20)) {
        size_t old = size;
        size *= 2;
        r = realloc(r, size);
        if (!r) { printf("realloc(%zu) failed\n", size); return 1; }
        for (size_t i = 0; i < old; i += 997) intact &= r[i] == expected(i);
        memset(r + old, 0xa5, size - old);
        for (size_t i = (old + 60) / 61 * 61; i < size; i += 61) r[i] = expected(i);
    }
    printf("realloc up to %zu bytes: contents kept=%d checksum %016llx\n", size, intact, (unsigned long long)fnv(r, size));
    free(r);

    uint32_t *z = calloc(4u << 20, sizeof *z);
    uint64_t nonzero = 0;
    for (size_t i = 0; i < (4u << 20); i += 7) nonzero += z[i] != 0;
    printf("calloc 16 MiB: %llu nonzero words\n", (unsigned long long)nonzero);
    free(z);
    free(a);

    void *blocks[64];
    uint64_t total = 0;
    for (int i = 0; i < 64; i++) {
        size_t n = (size_t)(i + 1) * 12345;
        blocks[i] = malloc(n);
        memset(blocks[i], i, n);
        total += n;
    }
    uint64_t sum = 0;
    for (int i = 0; i < 64; i += 3) sum += ((unsigned char *)blocks[i])[(size_t)i * 1000];
    for (int i = 0; i < 64; i++) free(blocks[i]);
    printf("64 blocks, %llu bytes, sample sum %llu\n", (unsigned long long)total, (unsigned long long)sum);
    return 0;
}
