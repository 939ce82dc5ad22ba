/*
 * A counter actor in C, on guest/c/wasmhive.h. Requests (MessagePack):
 *
 *   "up", "down"      change the count by one; answer "value=<count>"
 *   ["add", n]        add the integer n; answer the new count (an integer)
 *   "get"             answer {"count": <count>, "self": <pid>, "seen": <requests>}
 *   anything else     answer ["error", "<why>"]
 *
 * Build: scripts/build-c-guests.sh (or `wasmhive build counter.c`).
 */
#include "wasmhive.h"

/* The largest request this actor reads; longer ones are refused, not cut. */
#define MAX_REQUEST 1024

static uint8_t request[MAX_REQUEST];
static uint8_t answer[256];

/* Writes v in decimal at out (room for 20 characters); returns the length. */
static uint32_t decimal(int64_t v, char *out) {
  char digits[20];
  uint32_t n = 0, len = 0;
  /* Work on the negative value so that INT64_MIN does not overflow. */
  int64_t neg = v < 0 ? v : -v;
  do {
    digits[n++] = (char)('0' - neg % 10);
    neg /= 10;
  } while (neg != 0);
  if (v < 0) out[len++] = '-';
  while (n > 0) out[len++] = digits[--n];
  return len;
}

static void reply_error(hive_mp_writer *w, const char *why) {
  hive_mpw_array(w, 2);
  hive_mpw_cstr(w, "error");
  hive_mpw_cstr(w, why);
}

enum op { OP_UP, OP_DOWN, OP_GET, OP_ADD, OP_BAD };

/* Parses a whole request: its operation (and the operand of "add"), or OP_BAD with why. */
static enum op parse(hive_mp_reader *r, int64_t *operand, const char **why) {
  enum op op = OP_BAD;
  uint32_t items = 0;
  *why = "unknown request";
  if (hive_mpr_str_is(r, "up")) op = OP_UP;
  else if (hive_mpr_str_is(r, "down")) op = OP_DOWN;
  else if (hive_mpr_str_is(r, "get")) op = OP_GET;
  else if (hive_mpr_type(r) == HIVE_MP_ARRAY && hive_mpr_array(r, &items) && items == 2 &&
           hive_mpr_str_is(r, "add")) {
    if (!hive_mpr_int(r, operand)) {
      *why = "add takes an integer";
      return OP_BAD;
    }
    op = OP_ADD;
  }
  if (op != OP_BAD && !hive_mpr_done(r)) {
    *why = "trailing bytes";
    return OP_BAD;
  }
  return op;
}

HIVE_MAIN {
  int64_t count = 0;
  int64_t seen = 0;
  for (;;) {
    int32_t size = hive_receive(HIVE_FOREVER);
    if (size < 0) continue;
    seen++;
    hive_mp_writer w;
    hive_mpw_init(&w, answer, sizeof answer);
    int64_t n = 0;
    const char *why = "request too large";
    enum op op = OP_BAD;
    if (size <= MAX_REQUEST) {
      hive_read(request, size);
      hive_mp_reader r;
      hive_mpr_init(&r, request, (uint32_t)size);
      op = parse(&r, &n, &why);
    }
    switch (op) {
      case OP_UP:
      case OP_DOWN: {
        count += op == OP_UP ? 1 : -1;
        char text[32] = "value=";
        hive_mpw_str(&w, text, 6 + decimal(count, text + 6));
        break;
      }
      case OP_GET:
        hive_mpw_map(&w, 3);
        hive_mpw_cstr(&w, "count");
        hive_mpw_int(&w, count);
        hive_mpw_cstr(&w, "self");
        hive_mpw_int(&w, hive_self());
        hive_mpw_cstr(&w, "seen");
        hive_mpw_int(&w, seen);
        break;
      case OP_ADD:
        if ((n > 0 && count > INT64_MAX - n) || (n < 0 && count < INT64_MIN - n)) {
          reply_error(&w, "overflow");
        } else {
          count += n;
          hive_mpw_int(&w, count);
        }
        break;
      case OP_BAD:
        reply_error(&w, why);
        break;
    }
    hive_reply_mp(&w);
  }
}
