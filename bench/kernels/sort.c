/*
 * sort.c: memory (random access into an array of up to 2 MiB) and branches.
 *
 * Quicksort (median-of-three pivot, insertion sort below 16 elements,
 * recursion on the smaller side) of n pseudo-random i32s. Stresses i32
 * load/store at data-dependent addresses, compares and unpredictable branches.
 *
 * run(n): sorts n numbers (n clamped to [1, 2^19]) and returns a
 * position-weighted checksum of the result, or -1 if it is not sorted.
 * Work ~ n log n.
 */
#include "common.h"

#define MAXN (1 << 19)
static i32 data[MAXN];

static void insertion_sort(i32 *a, i32 lo, i32 hi) {
  for (i32 i = lo + 1; i <= hi; i++) {
    i32 v = a[i];
    i32 j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

static inline void swap(i32 *a, i32 i, i32 j) {
  i32 t = a[i];
  a[i] = a[j];
  a[j] = t;
}

static void quicksort(i32 *a, i32 lo, i32 hi) {
  while (hi - lo >= 16) {
    i32 mid = lo + (hi - lo) / 2;
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    i32 pivot = a[mid];
    i32 i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    /* Recurse into the smaller part, loop on the larger: stack depth O(log n). */
    if (j - lo < hi - i) {
      quicksort(a, lo, j);
      lo = i;
    } else {
      quicksort(a, i, hi);
      hi = j;
    }
  }
  insertion_sort(a, lo, hi);
}

i32 run(i32 n) {
  if (n < 1) n = 1;
  if (n > MAXN) n = MAXN;
  u32 x = 7;
  for (i32 i = 0; i < n; i++) {
    x = lcg32(x);
    data[i] = (i32)x;
  }
  quicksort(data, 0, n - 1);
  u32 check = 0;
  for (i32 i = 0; i < n; i++) {
    if (i > 0 && data[i - 1] > data[i]) return -1;
    check = check * 31u + (u32)data[i];
  }
  return (i32)check;
}
