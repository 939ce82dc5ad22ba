/*
 * Test guest of wasmhive.h's MessagePack reader and writer (guest/c/wasmhive-h.test.ts):
 * reads each request value by value and writes it again. Answers
 * ["ok", <the value, re-encoded>] or ["error", "<why>"]. A request
 * ["cap", n, value] re-encodes value into only n bytes of the buffer (to
 * test the writer's overflow); ["skip", x, value] skips x with
 * hive_mpr_skip and answers with value. Built by scripts/build-c-guests.sh.
 */
#include "wasmhive.h"

#define MAX_DEPTH 64

static uint8_t request[65536];
static uint8_t answer[65536 + 64];

/* Copies one value from r to w; false (with *why) when it cannot. */
static bool copy(hive_mp_reader *r, hive_mp_writer *w, int depth, const char **why) {
  if (depth > MAX_DEPTH) {
    *why = "too deep";
    return false;
  }
  switch (hive_mpr_type(r)) {
    case HIVE_MP_NIL:
      return hive_mpr_nil(r) && hive_mpw_nil(w);
    case HIVE_MP_BOOL: {
      bool b;
      return hive_mpr_bool(r, &b) && hive_mpw_bool(w, b);
    }
    case HIVE_MP_INT: {
      int64_t i;
      uint64_t u;
      /* Try the signed read first; a uint64 above INT64_MAX fails it (reader unmoved), then the unsigned one. */
      hive_mp_reader probe = *r;
      if (hive_mpr_int(&probe, &i)) {
        *r = probe;
        return hive_mpw_int(w, i);
      }
      return hive_mpr_uint(r, &u) && hive_mpw_uint(w, u);
    }
    case HIVE_MP_FLOAT: {
      double d;
      return hive_mpr_f64(r, &d) && hive_mpw_f64(w, d);
    }
    case HIVE_MP_STR: {
      const char *s;
      uint32_t n;
      return hive_mpr_str(r, &s, &n) && hive_mpw_str(w, s, n);
    }
    case HIVE_MP_BIN: {
      const uint8_t *b;
      uint32_t n;
      return hive_mpr_bin(r, &b, &n) && hive_mpw_bin(w, b, n);
    }
    case HIVE_MP_ARRAY: {
      uint32_t n;
      if (!hive_mpr_array(r, &n) || !hive_mpw_array(w, n)) return false;
      for (uint32_t i = 0; i < n; i++)
        if (!copy(r, w, depth + 1, why)) return false;
      return true;
    }
    case HIVE_MP_MAP: {
      uint32_t n;
      if (!hive_mpr_map(r, &n) || !hive_mpw_map(w, n)) return false;
      for (uint32_t i = 0; i < 2 * n; i++)
        if (!copy(r, w, depth + 1, why)) return false;
      return true;
    }
    case HIVE_MP_EXT: {
      int32_t pid;
      hive_mp_reader whole = *r;
      if (!hive_mpr_skip(&whole)) return false; /* truncated: malformed */
      if (hive_mpr_pid(r, &pid)) return hive_mpw_pid(w, pid);
      *why = "an extension other than a pid";
      return false;
    }
    default:
      return false;
  }
}

static void fail(hive_mp_writer *w, const char *why) {
  hive_mpw_init(w, answer, sizeof answer);
  hive_mpw_array(w, 2);
  hive_mpw_cstr(w, "error");
  hive_mpw_cstr(w, why);
}

HIVE_MAIN {
  for (;;) {
    int32_t size = hive_receive(HIVE_FOREVER);
    if (size < 0) continue;
    hive_mp_writer w;
    if (size > (int32_t)sizeof request) {
      fail(&w, "request too large");
      hive_reply_mp(&w);
      continue;
    }
    hive_read(request, size);
    hive_mp_reader r;
    hive_mpr_init(&r, request, (uint32_t)size);
    const char *why = NULL;

    /* ["cap", n, value]: the writer gets 2 bytes of header room plus n. */
    uint32_t cap = sizeof answer;
    hive_mp_reader peek = r;
    uint32_t items;
    int64_t n;
    if (hive_mpr_array(&peek, &items) && items == 3 && hive_mpr_str_is(&peek, "cap") && hive_mpr_int(&peek, &n) &&
        n >= 0 && n < 65536) {
      r = peek;
      cap = 4 + (uint32_t)n; /* "ok" is 3 bytes, the array header 1 */
    }
    peek = r;
    if (hive_mpr_array(&peek, &items) && items == 3 && hive_mpr_str_is(&peek, "skip")) {
      if (!hive_mpr_skip(&peek)) {
        fail(&w, "skip failed");
        hive_reply_mp(&w);
        continue;
      }
      r = peek;
    }
    hive_mpw_init(&w, answer, cap);
    hive_mpw_array(&w, 2);
    hive_mpw_cstr(&w, "ok");
    if (!copy(&r, &w, 0, &why)) {
      if (w.error) why = "overflow";
      else if (why == NULL) why = "malformed";
      fail(&w, why);
    } else if (!hive_mpr_done(&r)) {
      fail(&w, "trailing bytes");
    }
    hive_reply_mp(&w);
  }
}
