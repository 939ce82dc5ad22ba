/*
 * wasmhive.h: write wasmhive actors in C.
 *
 * Header-only and freestanding: it needs only <stdint.h>, <stddef.h> and
 * <stdbool.h>, which clang ships itself, so no libc is needed (wasi-libc
 * works too). It declares the guest ABI `hive` version 1 (docs/guest-abi.md
 * is the contract), its status, kind, flag and log-level constants, and a
 * small MessagePack writer and reader that work on buffers you own (no
 * allocation), and helpers to call the host's services (hive_service,
 * hive_service_call).
 *
 * Build with `npx wasmhive build actor.c`, or with clang (and lld) as it
 * does (guest/c/clang-flags): compile, then link without -O (with -O, clang
 * runs any wasm-opt on the PATH, so the bytes would depend on the PATH):
 *
 *   clang --target=wasm32 -O2 -ffreestanding -nostdlib -mbulk-memory -Wall \
 *     -I node_modules/wasmhive/guest/c -c -o actor.o actor.c
 *   clang --target=wasm32 -nostdlib -Wl,--no-entry -Wl,--stack-first \
 *     -Wl,-z,stack-size=65536 -Wl,--strip-all -o actor.wasm actor.o
 *
 * An actor defines its entry point with HIVE_MAIN:
 *
 *   #include "wasmhive.h"
 *   static uint8_t in[256], out[256];
 *   HIVE_MAIN {
 *     for (;;) {
 *       int32_t n = hive_receive(HIVE_FOREVER);
 *       ...
 *     }
 *   }
 *
 * Do not export a symbol named `hive_abi_version` from C: wasm-ld exports a
 * C variable as a global holding its address, not its value, and the hive
 * would refuse the module for its version.
 *
 * MessagePack: every write and read returns false (and sets the sticky
 * `error` flag) on failure: a full buffer, a value of another type, a
 * truncated or malformed message. A failed read does not move the reader;
 * nothing traps and nothing reads or writes outside the buffer given.
 */
#ifndef WASMHIVE_H
#define WASMHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- constants of the ABI ---------------------------------------------- */

/** The ABI version this header is written against. */
#define HIVE_ABI_VERSION 1

/* Statuses: functions that can fail return one of these (negative). */
#define HIVE_OK 0
#define HIVE_TIMEOUT (-1)      /* the timeout passed with nothing to return */
#define HIVE_NOT_FOUND (-2)    /* no such actor, name or monitor (or it exited) */
#define HIVE_FULL (-3)         /* the receiver's mailbox stayed full */
#define HIVE_INVALID (-4)      /* the receiver's schema refused the message */
#define HIVE_TAKEN (-5)        /* the name is taken, or this actor has a name */
#define HIVE_NO_MODULE (-6)    /* spawn: no module of that name */
#define HIVE_SPAWN_FAILED (-7) /* spawn: the module failed to link or start */
#define HIVE_BAD_ARGUMENT (-8) /* an argument is out of range, or not UTF-8 */
#define HIVE_TOO_LARGE (-9)    /* larger than the hive's maxMessageBytes */
#define HIVE_LIMIT (-10)       /* a resource limit was reached; nothing done */
/* Statuses a service answers with (besides BAD_ARGUMENT, INVALID, TIMEOUT, FULL; see "services" below). */
#define HIVE_FAILED (-11)      /* the service's handler threw or rejected */
#define HIVE_INTERRUPTED (-12) /* pending when this actor was snapshotted: it may or may not have run */
/* Not an ABI status: hive_service_call* got an answer that is not [status: int, body]. */
#define HIVE_DECODE_ERROR (-100)

/* Kinds of the current message (hive_kind()). */
#define HIVE_MESSAGE 0 /* what the sender sent */
#define HIVE_EXIT 1    /* an exit signal, as a message: {from, reason} */
#define HIVE_DOWN 2    /* a monitored actor exited: {ref, from, reason} */
#define HIVE_INIT 3    /* the init message given to spawn */

/* Flags of hive_spawn (or them together). */
#define HIVE_LINK 1           /* link to the new actor atomically */
#define HIVE_SPAWN_SERVICES 2 /* grant it this actor's services, in the same order (so at the same addresses) */

/* Services: lookup gives a granted service the address HIVE_SERVICE_BASE + its index in this actor's grant list. */
#define HIVE_SERVICE_BASE 0x7FFF0000

/* Timeouts (milliseconds of the hive's clock). */
#define HIVE_FOREVER (-1)
#define HIVE_NO_WAIT 0

/* Log levels (pino's). */
#define HIVE_LEVEL_TRACE 10
#define HIVE_LEVEL_DEBUG 20
#define HIVE_LEVEL_INFO 30
#define HIVE_LEVEL_WARN 40
#define HIVE_LEVEL_ERROR 50
#define HIVE_LEVEL_FATAL 60

/** Defines the actor's entry point, exported as `main` (no parameters, no result). */
#define HIVE_MAIN __attribute__((export_name("main"))) void hive_main(void)

/* ---- the imports of module `hive` --------------------------------------- */

#define HIVE_IMPORT(name) __attribute__((import_module("hive"), import_name(#name)))

/* Messages */
HIVE_IMPORT(receive) int32_t hive_receive(int32_t timeout);
HIVE_IMPORT(size) int32_t hive_size(void);
HIVE_IMPORT(read) int32_t hive_read(void *ptr, int32_t len);
HIVE_IMPORT(kind) int32_t hive_kind(void);
HIVE_IMPORT(sender) int32_t hive_sender(void);
HIVE_IMPORT(send) int32_t hive_send(int32_t to, const void *ptr, int32_t len, int32_t timeout);
HIVE_IMPORT(reply) int32_t hive_reply(const void *ptr, int32_t len);
HIVE_IMPORT(call) int32_t hive_call(int32_t to, const void *ptr, int32_t len, int32_t timeout);

/* Actors */
HIVE_IMPORT(self) int32_t hive_self(void);
HIVE_IMPORT(spawn)
int32_t hive_spawn(const char *module, int32_t module_len, const void *init, int32_t init_len, int32_t flags);
HIVE_IMPORT(register) int32_t hive_register(const char *name, int32_t name_len);
HIVE_IMPORT(unregister) int32_t hive_unregister(void);
HIVE_IMPORT(lookup) int32_t hive_lookup(const char *name, int32_t name_len);

/* Failure */
HIVE_IMPORT(link) int32_t hive_link(int32_t pid);
HIVE_IMPORT(unlink) int32_t hive_unlink(int32_t pid);
HIVE_IMPORT(monitor) int32_t hive_monitor(int32_t pid);
HIVE_IMPORT(demonitor) int32_t hive_demonitor(int32_t ref);
HIVE_IMPORT(exit) int32_t hive_exit(int32_t pid, const char *reason, int32_t reason_len);
HIVE_IMPORT(trap_exit) int32_t hive_trap_exit(int32_t on);

/* Time, randomness, logs */
HIVE_IMPORT(sleep) void hive_sleep(int32_t ms);
HIVE_IMPORT(now) int64_t hive_now(void);
HIVE_IMPORT(random) void hive_random(void *ptr, int32_t len);
HIVE_IMPORT(log) void hive_log(int32_t level, const char *ptr, int32_t len);
HIVE_IMPORT(abi_version) int32_t hive_abi_version(void);

#undef HIVE_IMPORT

/** Length of a NUL-terminated string (freestanding: no libc strlen). */
static inline int32_t hive_strlen(const char *s) {
  int32_t n = 0;
  while (s[n] != 0) n++;
  return n;
}

/** Logs a NUL-terminated line. */
static inline void hive_log_str(int32_t level, const char *text) {
  hive_log(level, text, hive_strlen(text));
}

/** Registers this actor under a NUL-terminated name. */
static inline int32_t hive_register_str(const char *name) { return hive_register(name, hive_strlen(name)); }

/** The pid registered under a NUL-terminated name, or HIVE_NOT_FOUND. */
static inline int32_t hive_lookup_str(const char *name) { return hive_lookup(name, hive_strlen(name)); }

/**
 * The address of the service granted to this actor under a NUL-terminated
 * name (see "services" below), or HIVE_NOT_FOUND (no such service, or not
 * granted to this actor), or HIVE_BAD_ARGUMENT. It is hive_lookup_str.
 */
static inline int32_t hive_service(const char *name) { return hive_lookup(name, hive_strlen(name)); }

/**
 * Exits this actor with a NUL-terminated reason. Does not return: when the
 * hive refuses the reason (over 1 KiB, or not UTF-8) it traps, so the actor
 * crashes instead.
 */
static inline void hive_exit_self(const char *reason) {
  hive_exit(hive_self(), reason, hive_strlen(reason));
  __builtin_trap();
}

/* ---- MessagePack writer ------------------------------------------------- */

/** Writes MessagePack into a buffer you own. */
typedef struct hive_mp_writer {
  uint8_t *buf;
  uint32_t cap;
  uint32_t len;
  bool error; /* sticky: a write did not fit */
} hive_mp_writer;

/** Starts writing at the beginning of buf (cap bytes). */
static inline void hive_mpw_init(hive_mp_writer *w, void *buf, uint32_t cap) {
  w->buf = (uint8_t *)buf;
  w->cap = cap;
  w->len = 0;
  w->error = false;
}

/* Reserves n bytes: a pointer to them, or NULL (and error) when they do not fit. */
static inline uint8_t *hive__mpw_take(hive_mp_writer *w, uint32_t n) {
  if (w->error || n > w->cap - w->len) {
    w->error = true;
    return NULL;
  }
  uint8_t *p = w->buf + w->len;
  w->len += n;
  return p;
}

static inline void hive__be16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static inline void hive__be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
static inline void hive__be64(uint8_t *p, uint64_t v) {
  hive__be32(p, (uint32_t)(v >> 32));
  hive__be32(p + 4, (uint32_t)v);
}

/* A type byte followed by a big-endian length or value of `size` bytes (0, 1, 2, 4 or 8). */
static inline bool hive__mpw_head(hive_mp_writer *w, uint8_t type, uint32_t size, uint64_t v) {
  uint8_t *p = hive__mpw_take(w, 1 + size);
  if (p == NULL) return false;
  p[0] = type;
  if (size == 1) p[1] = (uint8_t)v;
  else if (size == 2) hive__be16(p + 1, (uint32_t)v);
  else if (size == 4) hive__be32(p + 1, (uint32_t)v);
  else if (size == 8) hive__be64(p + 1, v);
  return true;
}

static inline bool hive__mpw_bytes(hive_mp_writer *w, const void *data, uint32_t len) {
  uint8_t *p = hive__mpw_take(w, len);
  if (p == NULL) return false;
  const uint8_t *s = (const uint8_t *)data;
  for (uint32_t i = 0; i < len; i++) p[i] = s[i];
  return true;
}

static inline bool hive_mpw_nil(hive_mp_writer *w) { return hive__mpw_head(w, 0xc0, 0, 0); }

static inline bool hive_mpw_bool(hive_mp_writer *w, bool v) { return hive__mpw_head(w, v ? 0xc3 : 0xc2, 0, 0); }

/** A non-negative integer, in its smallest form. */
static inline bool hive_mpw_uint(hive_mp_writer *w, uint64_t v) {
  if (v < 0x80) return hive__mpw_head(w, (uint8_t)v, 0, 0);
  if (v <= 0xff) return hive__mpw_head(w, 0xcc, 1, v);
  if (v <= 0xffff) return hive__mpw_head(w, 0xcd, 2, v);
  if (v <= 0xffffffffu) return hive__mpw_head(w, 0xce, 4, v);
  return hive__mpw_head(w, 0xcf, 8, v);
}

/** An integer, in its smallest form. */
static inline bool hive_mpw_int(hive_mp_writer *w, int64_t v) {
  if (v >= 0) return hive_mpw_uint(w, (uint64_t)v);
  if (v >= -32) return hive__mpw_head(w, (uint8_t)(int8_t)v, 0, 0);
  if (v >= INT8_MIN) return hive__mpw_head(w, 0xd0, 1, (uint64_t)v);
  if (v >= INT16_MIN) return hive__mpw_head(w, 0xd1, 2, (uint64_t)v);
  if (v >= INT32_MIN) return hive__mpw_head(w, 0xd2, 4, (uint64_t)v);
  return hive__mpw_head(w, 0xd3, 8, (uint64_t)v);
}

/** A float64. */
static inline bool hive_mpw_f64(hive_mp_writer *w, double v) {
  union { double d; uint64_t u; } bits;
  bits.d = v;
  return hive__mpw_head(w, 0xcb, 8, bits.u);
}

/* A header for a str, bin, array or map of n items: fix form (when fix_max > 0), 8, 16 or 32 bits. */
static inline bool hive__mpw_sized(hive_mp_writer *w, uint8_t fix, uint32_t fix_max, uint8_t t8, uint8_t t16,
                                   uint32_t n) {
  if (n < fix_max) return hive__mpw_head(w, (uint8_t)(fix | n), 0, 0);
  if (t8 != 0 && n <= 0xff) return hive__mpw_head(w, t8, 1, n);
  if (n <= 0xffff) return hive__mpw_head(w, t16, 2, n);
  return hive__mpw_head(w, (uint8_t)(t16 + 1), 4, n);
}

/** A string of len bytes (UTF-8). */
static inline bool hive_mpw_str(hive_mp_writer *w, const char *s, uint32_t len) {
  return hive__mpw_sized(w, 0xa0, 32, 0xd9, 0xda, len) && hive__mpw_bytes(w, s, len);
}

/** A NUL-terminated string. */
static inline bool hive_mpw_cstr(hive_mp_writer *w, const char *s) {
  return hive_mpw_str(w, s, (uint32_t)hive_strlen(s));
}

/** A bin of len bytes. */
static inline bool hive_mpw_bin(hive_mp_writer *w, const void *data, uint32_t len) {
  return hive__mpw_sized(w, 0, 0, 0xc4, 0xc5, len) && hive__mpw_bytes(w, data, len);
}

/** An array header: write its n items next. */
static inline bool hive_mpw_array(hive_mp_writer *w, uint32_t n) { return hive__mpw_sized(w, 0x90, 16, 0, 0xdc, n); }

/** A map header: write its n keys and values next, alternating. */
static inline bool hive_mpw_map(hive_mp_writer *w, uint32_t n) { return hive__mpw_sized(w, 0x80, 16, 0, 0xde, n); }

/** A pid, as the host encodes it: extension type 1 with 4 bytes of big-endian id. */
static inline bool hive_mpw_pid(hive_mp_writer *w, int32_t pid) {
  uint8_t *p = hive__mpw_take(w, 6);
  if (p == NULL) return false;
  p[0] = 0xd6; /* fixext 4 */
  p[1] = 1;
  hive__be32(p + 2, (uint32_t)pid);
  return true;
}

/** Sends what w holds to `to` (HIVE_TOO_LARGE when the writer overflowed). */
static inline int32_t hive_send_mp(int32_t to, const hive_mp_writer *w, int32_t timeout) {
  return w->error ? HIVE_TOO_LARGE : hive_send(to, w->buf, (int32_t)w->len, timeout);
}

/** Replies with what w holds (HIVE_TOO_LARGE when the writer overflowed). */
static inline int32_t hive_reply_mp(const hive_mp_writer *w) {
  return w->error ? HIVE_TOO_LARGE : hive_reply(w->buf, (int32_t)w->len);
}

/* ---- MessagePack reader ------------------------------------------------- */

/** Types of MessagePack values, as hive_mpr_type() reports them. */
typedef enum hive_mp_type {
  HIVE_MP_END = 0, /* nothing left, or the reader failed */
  HIVE_MP_NIL,
  HIVE_MP_BOOL,
  HIVE_MP_INT, /* an integer (either sign) */
  HIVE_MP_FLOAT,
  HIVE_MP_STR,
  HIVE_MP_BIN,
  HIVE_MP_ARRAY,
  HIVE_MP_MAP,
  HIVE_MP_EXT,
  HIVE_MP_BAD /* a byte that starts no value (0xc1) */
} hive_mp_type;

/** Reads MessagePack from a buffer you own; strings and bins are returned as pointers into it. */
typedef struct hive_mp_reader {
  const uint8_t *buf;
  uint32_t len;
  uint32_t pos;
  bool error; /* sticky: a read failed */
} hive_mp_reader;

/** Starts reading len bytes at buf. */
static inline void hive_mpr_init(hive_mp_reader *r, const void *buf, uint32_t len) {
  r->buf = (const uint8_t *)buf;
  r->len = len;
  r->pos = 0;
  r->error = false;
}

/** True while every read succeeded. */
static inline bool hive_mpr_ok(const hive_mp_reader *r) { return !r->error; }

/** True when every byte was read (and nothing failed). */
static inline bool hive_mpr_done(const hive_mp_reader *r) { return !r->error && r->pos == r->len; }

static inline bool hive__mpr_fail(hive_mp_reader *r) {
  r->error = true;
  return false;
}

static inline uint64_t hive__mpr_be(const uint8_t *p, uint32_t size) {
  uint64_t v = 0;
  for (uint32_t i = 0; i < size; i++) v = (v << 8) | p[i];
  return v;
}

/** The type of the next value (HIVE_MP_END at the end or after a failure). */
static inline hive_mp_type hive_mpr_type(const hive_mp_reader *r) {
  if (r->error || r->pos >= r->len) return HIVE_MP_END;
  uint8_t b = r->buf[r->pos];
  if (b <= 0x7f || b >= 0xe0) return HIVE_MP_INT;
  if (b <= 0x8f) return HIVE_MP_MAP;
  if (b <= 0x9f) return HIVE_MP_ARRAY;
  if (b <= 0xbf) return HIVE_MP_STR;
  switch (b) {
    case 0xc0: return HIVE_MP_NIL;
    case 0xc2: case 0xc3: return HIVE_MP_BOOL;
    case 0xc4: case 0xc5: case 0xc6: return HIVE_MP_BIN;
    case 0xc7: case 0xc8: case 0xc9: return HIVE_MP_EXT;
    case 0xca: case 0xcb: return HIVE_MP_FLOAT;
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: return HIVE_MP_INT;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: return HIVE_MP_EXT;
    case 0xd9: case 0xda: case 0xdb: return HIVE_MP_STR;
    case 0xdc: case 0xdd: return HIVE_MP_ARRAY;
    case 0xde: case 0xdf: return HIVE_MP_MAP;
    default: return HIVE_MP_BAD;
  }
}

/*
 * Decodes the header of the next value without moving: its type, its
 * header's size, the length of its payload (bytes of a str, bin or ext;
 * items of an array or map; 0 otherwise) and, for ints and floats, its
 * raw bits. False when the header does not fit in what is left.
 */
typedef struct hive__mp_head {
  hive_mp_type type;
  uint32_t head;    /* bytes of the header (for ext: with the type byte) */
  uint32_t n;       /* payload bytes, or items */
  uint64_t bits;    /* int/float value bits; ext: its type byte */
  bool negative;    /* an int below zero (bits holds it as int64) */
  bool f32;         /* a float32 (bits holds its 32 bits) */
} hive__mp_head;

static inline bool hive__mpr_head(const hive_mp_reader *r, hive__mp_head *h) {
  h->type = hive_mpr_type(r);
  h->head = 1;
  h->n = 0;
  h->bits = 0;
  h->negative = false;
  h->f32 = false;
  if (h->type == HIVE_MP_END || h->type == HIVE_MP_BAD) return false;
  const uint8_t *p = r->buf + r->pos;
  uint32_t left = r->len - r->pos;
  uint8_t b = p[0];
  uint32_t size = 0; /* bytes after the type byte holding a length or a value */
  if (b <= 0x7f) { h->bits = b; return true; }
  if (b >= 0xe0) { h->bits = (uint64_t)(int64_t)(int8_t)b; h->negative = true; return true; }
  if (b <= 0x8f) { h->n = b & 0x0f; return true; }
  if (b <= 0x9f) { h->n = b & 0x0f; return true; }
  if (b <= 0xbf) { h->n = b & 0x1f; return true; }
  switch (b) {
    case 0xc0: case 0xc2: case 0xc3: return true;
    case 0xc4: case 0xd9: case 0xcc: case 0xd0: size = 1; break;
    case 0xc5: case 0xda: case 0xdc: case 0xde: case 0xcd: case 0xd1: size = 2; break;
    case 0xc6: case 0xdb: case 0xdd: case 0xdf: case 0xce: case 0xd2: case 0xca: size = 4; break;
    case 0xcf: case 0xd3: case 0xcb: size = 8; break;
    case 0xc7: size = 1; break;
    case 0xc8: size = 2; break;
    case 0xc9: size = 4; break;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
      if (left < 2) return false;
      h->head = 2;
      h->n = 1u << (b - 0xd4);
      h->bits = p[1];
      return true;
    default: return false;
  }
  if (left < 1 + size) return false;
  uint64_t v = hive__mpr_be(p + 1, size);
  h->head = 1 + size;
  switch (h->type) {
    case HIVE_MP_INT:
      if (b >= 0xd0) { /* signed: sign-extend from its size */
        uint32_t shift = 64 - 8 * size;
        int64_t s = (int64_t)(v << shift) >> shift;
        h->bits = (uint64_t)s;
        h->negative = s < 0;
      } else {
        h->bits = v;
      }
      return true;
    case HIVE_MP_FLOAT:
      h->bits = v;
      h->f32 = b == 0xca;
      return true;
    case HIVE_MP_EXT: /* ext 8/16/32: the type byte follows the length */
      if (left < 2 + size) return false;
      h->n = (uint32_t)v;
      h->head = 2 + size;
      h->bits = p[1 + size];
      return true;
    default:
      h->n = (uint32_t)v;
      return true;
  }
}

/* Checks that a header and its payload bytes (str, bin, ext) fit, and moves past them. */
static inline bool hive__mpr_take(hive_mp_reader *r, const hive__mp_head *h, uint32_t payload) {
  uint32_t left = r->len - r->pos;
  if (h->head > left || payload > left - h->head) return hive__mpr_fail(r);
  r->pos += h->head + payload;
  return true;
}

/** Reads a nil. */
static inline bool hive_mpr_nil(hive_mp_reader *r) {
  hive__mp_head h;
  if (!hive__mpr_head(r, &h) || h.type != HIVE_MP_NIL) return hive__mpr_fail(r);
  return hive__mpr_take(r, &h, 0);
}

/** Reads a bool. */
static inline bool hive_mpr_bool(hive_mp_reader *r, bool *out) {
  hive__mp_head h;
  if (!hive__mpr_head(r, &h) || h.type != HIVE_MP_BOOL) return hive__mpr_fail(r);
  *out = r->buf[r->pos] == 0xc3;
  return hive__mpr_take(r, &h, 0);
}

/* A float's value as a double. */
static inline double hive__mp_float(const hive__mp_head *h) {
  if (h->f32) {
    union { float f; uint32_t u; } b32;
    b32.u = (uint32_t)h->bits;
    return (double)b32.f;
  }
  union { double d; uint64_t u; } b64;
  b64.u = h->bits;
  return b64.d;
}

/**
 * Reads an integer into an int64. Also takes a float with an integral value
 * in range (the host sends JS numbers that are not 32-bit integers as
 * float64). Fails on a uint64 above INT64_MAX.
 */
static inline bool hive_mpr_int(hive_mp_reader *r, int64_t *out) {
  hive__mp_head h;
  if (!hive__mpr_head(r, &h)) return hive__mpr_fail(r);
  if (h.type == HIVE_MP_INT) {
    if (!h.negative && h.bits > (uint64_t)INT64_MAX) return hive__mpr_fail(r);
    *out = (int64_t)h.bits;
    return hive__mpr_take(r, &h, 0);
  }
  if (h.type == HIVE_MP_FLOAT) {
    double d = hive__mp_float(&h);
    /* -2^63 <= d < 2^63 and integral (NaN fails both tests) */
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return hive__mpr_fail(r);
    int64_t i = (int64_t)d;
    if ((double)i != d) return hive__mpr_fail(r);
    *out = i;
    return hive__mpr_take(r, &h, 0);
  }
  return hive__mpr_fail(r);
}

/** Reads an integer that fits an int32 (as hive_mpr_int, range checked). */
static inline bool hive_mpr_i32(hive_mp_reader *r, int32_t *out) {
  uint32_t at = r->pos;
  int64_t v;
  if (!hive_mpr_int(r, &v)) return false;
  if (v < INT32_MIN || v > INT32_MAX) {
    r->pos = at;
    return hive__mpr_fail(r);
  }
  *out = (int32_t)v;
  return true;
}

/** Reads a non-negative integer into a uint64 (any integer form). */
static inline bool hive_mpr_uint(hive_mp_reader *r, uint64_t *out) {
  hive__mp_head h;
  if (!hive__mpr_head(r, &h) || h.type != HIVE_MP_INT || h.negative) return hive__mpr_fail(r);
  *out = h.bits;
  return hive__mpr_take(r, &h, 0);
}

/** Reads a float (32 or 64 bits) or an integer, as a double. */
static inline bool hive_mpr_f64(hive_mp_reader *r, double *out) {
  hive__mp_head h;
  if (!hive__mpr_head(r, &h)) return hive__mpr_fail(r);
  if (h.type == HIVE_MP_FLOAT) *out = hive__mp_float(&h);
  else if (h.type == HIVE_MP_INT) *out = h.negative ? (double)(int64_t)h.bits : (double)h.bits;
  else return hive__mpr_fail(r);
  return hive__mpr_take(r, &h, 0);
}

/** Reads a string: *s points into the buffer (not NUL-terminated), *len is its length in bytes. */
static inline bool hive_mpr_str(hive_mp_reader *r, const char **s, uint32_t *len) {
  hive__mp_head h;
  if (!hive__mpr_head(r, &h) || h.type != HIVE_MP_STR) return hive__mpr_fail(r);
  const char *at = (const char *)(r->buf + r->pos + h.head);
  if (!hive__mpr_take(r, &h, h.n)) return false;
  *s = at;
  *len = h.n;
  return true;
}

/** True when the next value is the string `s` (NUL-terminated); reads it then, else leaves the reader as it was. */
static inline bool hive_mpr_str_is(hive_mp_reader *r, const char *s) {
  hive__mp_head h;
  if (!hive__mpr_head(r, &h) || h.type != HIVE_MP_STR) return false;
  uint32_t n = (uint32_t)hive_strlen(s);
  uint32_t left = r->len - r->pos;
  if (h.n != n || h.head > left || n > left - h.head) return false;
  const uint8_t *p = r->buf + r->pos + h.head;
  for (uint32_t i = 0; i < n; i++)
    if (p[i] != (uint8_t)s[i]) return false;
  r->pos += h.head + n;
  return true;
}

/** Reads a bin: *data points into the buffer, *len is its length. */
static inline bool hive_mpr_bin(hive_mp_reader *r, const uint8_t **data, uint32_t *len) {
  hive__mp_head h;
  if (!hive__mpr_head(r, &h) || h.type != HIVE_MP_BIN) return hive__mpr_fail(r);
  const uint8_t *at = r->buf + r->pos + h.head;
  if (!hive__mpr_take(r, &h, h.n)) return false;
  *data = at;
  *len = h.n;
  return true;
}

/** Reads an array header: *n items follow. */
static inline bool hive_mpr_array(hive_mp_reader *r, uint32_t *n) {
  hive__mp_head h;
  if (!hive__mpr_head(r, &h) || h.type != HIVE_MP_ARRAY) return hive__mpr_fail(r);
  if (!hive__mpr_take(r, &h, 0)) return false;
  *n = h.n;
  return true;
}

/** Reads a map header: *n key/value pairs follow. */
static inline bool hive_mpr_map(hive_mp_reader *r, uint32_t *n) {
  hive__mp_head h;
  if (!hive__mpr_head(r, &h) || h.type != HIVE_MP_MAP) return hive__mpr_fail(r);
  if (!hive__mpr_take(r, &h, 0)) return false;
  *n = h.n;
  return true;
}

/** Reads a pid: extension type 1 with 4 bytes (big-endian), or a plain non-negative int32. */
static inline bool hive_mpr_pid(hive_mp_reader *r, int32_t *pid) {
  hive__mp_head h;
  if (!hive__mpr_head(r, &h)) return hive__mpr_fail(r);
  if (h.type == HIVE_MP_EXT) {
    if (h.bits != 1 || h.n != 4) return hive__mpr_fail(r);
    const uint8_t *p = r->buf + r->pos + h.head;
    if (!hive__mpr_take(r, &h, 4)) return false;
    *pid = (int32_t)(uint32_t)hive__mpr_be(p, 4);
    return true;
  }
  if (h.type == HIVE_MP_INT && !h.negative && h.bits <= (uint64_t)INT32_MAX) {
    *pid = (int32_t)h.bits;
    return hive__mpr_take(r, &h, 0);
  }
  return hive__mpr_fail(r);
}

/**
 * Skips the next value, with everything inside it. Iterative (no
 * recursion, so no nesting depth can exhaust the stack); an array or map
 * claiming more items than bytes remain fails at once.
 */
static inline bool hive_mpr_skip(hive_mp_reader *r) {
  uint32_t at = r->pos;
  uint64_t pending = 1; /* values still to skip */
  while (pending > 0) {
    hive__mp_head h;
    if (!hive__mpr_head(r, &h)) {
      r->pos = at;
      return hive__mpr_fail(r);
    }
    pending--;
    uint32_t payload = 0;
    if (h.type == HIVE_MP_STR || h.type == HIVE_MP_BIN || h.type == HIVE_MP_EXT) payload = h.n;
    else if (h.type == HIVE_MP_ARRAY) pending += h.n;
    else if (h.type == HIVE_MP_MAP) pending += 2 * (uint64_t)h.n;
    if (!hive__mpr_take(r, &h, payload) || pending > r->len - r->pos) {
      r->pos = at;
      return hive__mpr_fail(r);
    }
  }
  return true;
}

/* ---- messages ------------------------------------------------------------ */

/**
 * Waits for the next message (up to timeout) and copies it into buf. Returns
 * its size (which may exceed cap: then only cap bytes were copied), or a
 * status (HIVE_TIMEOUT).
 */
static inline int32_t hive_receive_into(void *buf, int32_t cap, int32_t timeout) {
  int32_t n = hive_receive(timeout);
  if (n < 0) return n;
  hive_read(buf, n < cap ? n : cap);
  return n;
}

/* ---- services ------------------------------------------------------------ */

/*
 * A service is code the host registered and granted to this actor
 * (docs/guest-abi.md, "Services"); hive_service(name) gives its address.
 * A request is the MessagePack array [method: str, request] (request nil
 * when there is none), sent with hive_call, or with hive_send when no answer
 * is wanted. The answer becomes the current message: the array
 * [status: int, body], status 0 with the response as body, or a negative
 * status (HIVE_FAILED, HIVE_INTERRUPTED, HIVE_BAD_ARGUMENT, HIVE_INVALID,
 * HIVE_TIMEOUT, HIVE_FULL) with the error message (a str) as body.
 */

/*
 * Reads the answer of a service call (n bytes) into buf and splits it: body
 * reads the body. Returns the answer's status, HIVE_TOO_LARGE (a response
 * larger than cap) or HIVE_DECODE_ERROR.
 */
static inline int32_t hive__service_answer(int32_t n, uint8_t *buf, uint32_t cap, hive_mp_reader *body) {
  bool whole = (uint32_t)n <= cap;
  uint32_t got = whole ? (uint32_t)n : cap;
  hive_read(buf, (int32_t)got);
  hive_mp_reader r;
  hive_mpr_init(&r, buf, got);
  uint32_t items;
  int64_t status;
  if (!hive_mpr_array(&r, &items) || items != 2 || !hive_mpr_int(&r, &status))
    return whole ? HIVE_DECODE_ERROR : HIVE_TOO_LARGE;
  if (status > 0 || status < INT32_MIN) return HIVE_DECODE_ERROR;
  if (!whole) return status < 0 ? (int32_t)status : HIVE_TOO_LARGE; /* an error message that does not fit: none */
  if (r.pos == r.len) return HIVE_DECODE_ERROR;                      /* no body */
  hive_mpr_init(body, r.buf + r.pos, r.len - r.pos);
  if (status == 0) {
    hive_mp_reader check = *body;
    if (!hive_mpr_skip(&check) || !hive_mpr_done(&check)) {
      hive_mpr_init(body, buf, 0);
      return HIVE_DECODE_ERROR;
    }
  }
  return (int32_t)status;
}

/**
 * Calls `method` (NUL-terminated) of the service at svc with `request`: one
 * encoded MessagePack value of request_len bytes (NULL or 0 bytes: none,
 * sent as nil; not inside buf). buf (cap bytes) holds the request, then the
 * answer. Returns:
 * - HIVE_OK: `body` reads the response (in buf);
 * - the status the service answered (HIVE_FAILED, HIVE_INTERRUPTED,
 *   HIVE_BAD_ARGUMENT, ...): `body` reads its error message (a str), when
 *   the answer fits in buf;
 * - the call's own status (HIVE_NOT_FOUND, HIVE_TIMEOUT, ...);
 * - HIVE_TOO_LARGE when the request or the response does not fit in buf;
 * - HIVE_DECODE_ERROR when the answer is not [status: int, body].
 * `body` reads nothing whenever there is nothing to read.
 */
static inline int32_t hive_service_call(int32_t svc, const char *method, const void *request, uint32_t request_len,
                                        void *buf, uint32_t cap, hive_mp_reader *body, int32_t timeout) {
  hive_mp_writer w;
  hive_mpw_init(&w, buf, cap);
  hive_mpw_array(&w, 2);
  hive_mpw_cstr(&w, method);
  if (request == NULL || request_len == 0) hive_mpw_nil(&w);
  else hive__mpw_bytes(&w, request, request_len);
  hive_mpr_init(body, buf, 0);
  if (w.error) return HIVE_TOO_LARGE;
  int32_t n = hive_call(svc, w.buf, (int32_t)w.len, timeout);
  if (n < 0) return n;
  return hive__service_answer(n, (uint8_t *)buf, cap, body);
}

/**
 * hive_service_call with an integer request and response, on 128 bytes of
 * stack: stores the response in *response (0 on failure). Returns HIVE_OK or
 * a status as hive_service_call does (HIVE_TOO_LARGE for a method name over
 * about 100 bytes; HIVE_DECODE_ERROR also when the response is not an
 * integer that fits an int64). For the error message, use hive_service_call.
 */
static inline int32_t hive_service_call_int(int32_t svc, const char *method, int64_t request, int64_t *response,
                                            int32_t timeout) {
  uint8_t req[9], buf[128];
  hive_mp_writer w;
  hive_mpw_init(&w, req, sizeof req);
  hive_mpw_int(&w, request);
  *response = 0;
  hive_mp_reader body;
  int32_t status = hive_service_call(svc, method, req, w.len, buf, sizeof buf, &body, timeout);
  if (status != HIVE_OK) return status;
  int64_t v;
  if (!hive_mpr_int(&body, &v) || !hive_mpr_done(&body)) return HIVE_DECODE_ERROR;
  *response = v;
  return HIVE_OK;
}

#ifdef __cplusplus
}
#endif

#endif /* WASMHIVE_H */
