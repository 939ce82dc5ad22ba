/*
 * qsort: qsort with several comparators (integers both ways, strings,
 * structs by two keys), bsearch, and a table of function pointers called by
 * index, all of which compile to call_indirect.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t lcg_state = 12345;
static uint32_t lcg(void) { return lcg_state = lcg_state * 1103515245u + 12345u; }

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
static int cmp_int_desc(const void *a, const void *b) { return cmp_int(b, a); }
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

struct person { char name[12]; int age; double score; };
static int cmp_person(const void *a, const void *b) {
    const struct person *p = a, *q = b;
    if (p->age != q->age) return p->age - q->age;
    return strcmp(p->name, q->name);
}

static uint32_t checksum(const int *v, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint32_t)v[i]) * 16777619u;
    return h;
}

static int op_add(int a, int b) { return a + b; }
static int op_sub(int a, int b) { return a - b; }
static int op_mul(int a, int b) { return a * b; }
static int op_div(int a, int b) { return b ? a / b : 0; }
static int op_mod(int a, int b) { return b ? a % b : 0; }
static int op_xor(int a, int b) { return a ^ b; }
static int op_min(int a, int b) { return a < b ? a : b; }
static int op_max(int a, int b) { return a > b ? a : b; }
static int (*const ops[])(int, int) = {op_add, op_sub, op_mul, op_div, op_mod, op_xor, op_min, op_max};
static const char *const op_names[] = {"add", "sub", "mul", "div", "mod", "xor", "min", "max"};

int main(void) {
    enum { N = 20000 };
    static int v[N];
    for (int i = 0; i < N; i++) v[i] = (int)(lcg() >> 8) % 100000 - 50000;
    qsort(v, N, sizeof *v, cmp_int);
    int sorted = 1;
    for (int i = 1; i < N; i++) sorted &= v[i - 1] <= v[i];
    printf("ints ascending: sorted=%d min=%d median=%d max=%d checksum=%08x\n", sorted, v[0], v[N / 2], v[N - 1], checksum(v, N));
    int found = 0, missing = 0;
    for (int k = -50000; k < 50000; k += 37) {
        if (bsearch(&k, v, N, sizeof *v, cmp_int)) found++;
        else missing++;
    }
    printf("bsearch: %d found, %d missing\n", found, missing);
    qsort(v, N, sizeof *v, cmp_int_desc);
    printf("ints descending: first=%d last=%d checksum=%08x\n", v[0], v[N - 1], checksum(v, N));

    const char *words[] = {"pear", "apple", "fig", "banana", "cherry", "apricot", "kiwi", "date", "elderberry", "grape", "lime", "mango"};
    size_t nw = sizeof words / sizeof *words;
    qsort(words, nw, sizeof *words, cmp_str);
    printf("strings:");
    for (size_t i = 0; i < nw; i++) printf(" %s", words[i]);
    printf("\n");
    const char *key = "kiwi";
    const char **hit = bsearch(&key, words, nw, sizeof *words, cmp_str);
    printf("bsearch(kiwi) at index %d\n", hit ? (int)(hit - words) : -1);

    struct person people[40];
    for (int i = 0; i < 40; i++) {
        snprintf(people[i].name, sizeof people[i].name, "p%02u", lcg() % 100);
        people[i].age = 18 + (int)(lcg() % 50);
        people[i].score = (lcg() % 10000) / 100.0;
    }
    qsort(people, 40, sizeof *people, cmp_person);
    for (int i = 0; i < 40; i += 8) printf("person %d: %s age %d score %.2f\n", i, people[i].name, people[i].age, people[i].score);

    int acc = 1;
    for (int i = 0; i < 1000; i++) {
        unsigned k = lcg() % 8;
        int b = (int)(lcg() % 1000) - 500;
        acc = ops[k](acc, b) % 1000003;
        if (i % 250 == 0) printf("dispatch %d: %s(.., %d) -> %d\n", i, op_names[k], b, acc);
    }
    printf("dispatch result %d\n", acc);
    return 0;
}
