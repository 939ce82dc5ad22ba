/*
 * compute: a longer deterministic computation (tens of millions of wasm
 * instructions) that prints progress lines all through its run: a prime
 * sieve, a hash chain, n-queens, a merge sort and Collatz chains. Snapshot
 * tests cut it at arbitrary points and check that the resumed run prints
 * exactly what an uninterrupted one does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sieve(uint32_t limit) {
    unsigned char *composite = calloc(limit, 1);
    uint32_t count = 0, step = limit / 5;
    for (uint32_t i = 2; i < limit; i++) {
        if (!composite[i]) {
            count++;
            for (uint64_t j = (uint64_t)i * i; j < limit; j += i) composite[j] = 1;
        }
        if ((i + 1) % step == 0) printf("sieve: %u primes below %u\n", count, i + 1);
    }
    free(composite);
}

static void hash_chain(uint32_t rounds) {
    uint64_t block[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (uint32_t r = 1; r <= rounds; r++) {
        for (int k = 0; k < 8; k++) {
            uint64_t z = block[k] + block[(k + 1) & 7] + 0x9e3779b97f4a7c15ULL * r;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            block[k] = z ^ (z >> 31);
        }
        if (r % (rounds / 4) == 0) printf("hash chain: round %u -> %016llx\n", r, (unsigned long long)block[r & 7]);
    }
}

static uint32_t queens(uint32_t n, uint32_t cols, uint32_t diag1, uint32_t diag2) {
    if (cols == (1u << n) - 1) return 1;
    uint32_t count = 0;
    for (uint32_t free_ = ~(cols | diag1 | diag2) & ((1u << n) - 1); free_; free_ &= free_ - 1) {
        uint32_t bit = free_ & -free_;
        count += queens(n, cols | bit, (diag1 | bit) << 1, (diag2 | bit) >> 1);
    }
    return count;
}

static void merge_sort(int32_t *v, int32_t *tmp, size_t n) {
    if (n < 2) return;
    size_t h = n / 2;
    merge_sort(v, tmp, h);
    merge_sort(v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = v[j] < v[i] ? v[j++] : v[i++];
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof *v);
}

static void sorting(size_t n) {
    int32_t *v = malloc(n * sizeof *v), *tmp = malloc(n * sizeof *v);
    uint32_t x = 2463534242u;
    for (int pass = 1; pass <= 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            v[i] = (int32_t)(x % 2000001u) - 1000000;
        }
        merge_sort(v, tmp, n);
        uint32_t h = 2166136261u, ordered = 1;
        for (size_t i = 0; i < n; i++) {
            h = (h ^ (uint32_t)v[i]) * 16777619u;
            if (i) ordered &= v[i - 1] <= v[i];
        }
        printf("sort pass %d: %zu values, ordered=%u, min %d, max %d, hash %08x\n", pass, n, ordered, v[0], v[n - 1], h);
    }
    free(v);
    free(tmp);
}

static void collatz(uint32_t limit) {
    uint32_t best = 1, best_len = 1, step = limit / 4;
    for (uint32_t start = 1; start < limit; start++) {
        uint64_t x = start;
        uint32_t len = 1;
        while (x != 1) { x = x & 1 ? 3 * x + 1 : x >> 1; len++; }
        if (len > best_len) { best_len = len; best = start; }
        if ((start + 1) % step == 0) printf("collatz: below %u the longest chain starts at %u (%u steps)\n", start + 1, best, best_len);
    }
}

int main(void) {
    printf("compute: start\n");
    sieve(300000);
    hash_chain(20000);
    for (uint32_t n = 4; n <= 9; n++) printf("queens(%u) = %u\n", n, queens(n, 0, 0, 0));
    sorting(20000);
    collatz(20000);
    printf("compute: done\n");
    return 0;
}
