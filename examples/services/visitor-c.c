/*
 * A visitor, in C: the AssemblyScript visitor (visitor.ts) again, on
 * guest/c/wasmhive.h, freestanding (no libc, no allocation). It uses the
 * host's services `kv`, `http` and `greeter` (whichever it was granted) and
 * reports what it saw.
 *
 * Init: {url: str, report: pid}. Sends `report` one map with the same keys
 * as visitor.ts (nil where a service was not granted): lang ("C"), kv,
 * visits, note, http, status, body, greeter, greeting, waited, errors.
 *
 * Build: scripts/build-c-guests.sh (writes visitor-c.wasm), or
 * `npx wasmhive build visitor-c.c`.
 */
#include "wasmhive.h"

#define LANG "C"
#define MAX_ERRORS 4

static uint8_t in[256];       /* the init message */
static uint8_t buf[2048];     /* a service call: the request, then the answer (http's headers and body) */
static uint8_t req[512];      /* a request's value */
static uint8_t out[2048];     /* the report */

/* Text kept from answers (buf is reused by the next call). */
typedef struct text {
  char s[256];
  uint32_t len;
  bool set;
} text;

static char url[200];
static uint32_t url_len;
static text note, body, greeting;
static text errors[MAX_ERRORS];
static uint32_t error_count;

static void text_append(text *t, const char *s, uint32_t len) {
  for (uint32_t i = 0; i < len && t->len < sizeof t->s; i++) t->s[t->len++] = s[i];
  t->set = true;
}

static void text_set(text *t, const char *s, uint32_t len) {
  t->len = 0;
  text_append(t, s, len);
}

static const char *status_name(int32_t s) {
  switch (s) {
    case HIVE_TIMEOUT: return "TIMEOUT";
    case HIVE_NOT_FOUND: return "NOT_FOUND";
    case HIVE_FULL: return "FULL";
    case HIVE_INVALID: return "INVALID";
    case HIVE_BAD_ARGUMENT: return "BAD_ARGUMENT";
    case HIVE_TOO_LARGE: return "TOO_LARGE";
    case HIVE_LIMIT: return "LIMIT";
    case HIVE_FAILED: return "FAILED";
    case HIVE_INTERRUPTED: return "INTERRUPTED";
    case HIVE_DECODE_ERROR: return "DECODE_ERROR";
  }
  return "ERROR";
}

/* True when s is HIVE_OK; otherwise notes "<what>: <status> <message>" under "errors". */
static bool ok(const char *what, int32_t s, hive_mp_reader *answer) {
  if (s == HIVE_OK) return true;
  if (error_count < MAX_ERRORS) {
    text *t = &errors[error_count++];
    text_set(t, what, (uint32_t)hive_strlen(what));
    text_append(t, ": ", 2);
    text_append(t, status_name(s), (uint32_t)hive_strlen(status_name(s)));
    const char *why;
    uint32_t len;
    if (answer != NULL && hive_mpr_str(answer, &why, &len)) {
      text_append(t, " ", 1);
      text_append(t, why, len);
    }
  }
  return false;
}

/*
 * A call whose request is a string and whose response is an integer (kv's
 * incr): hive_service_call_int sends an integer request, and kv's keys are
 * strings.
 */
static bool call_str_int(int32_t svc, const char *what, const char *method, const char *request, int64_t *response) {
  hive_mp_writer w;
  hive_mpw_init(&w, req, sizeof req);
  hive_mpw_cstr(&w, request);
  hive_mp_reader answer;
  int32_t s = hive_service_call(svc, method, w.buf, w.len, buf, sizeof buf, &answer, HIVE_FOREVER);
  if (!ok(what, s, &answer)) return false;
  if (hive_mpr_int(&answer, response) && hive_mpr_done(&answer)) return true;
  return ok(what, HIVE_DECODE_ERROR, NULL);
}

/* A call whose response is a string, kept in t. */
static void call_for_text(int32_t svc, const char *what, const char *method, const hive_mp_writer *w, text *t) {
  hive_mp_reader answer;
  int32_t s = hive_service_call(svc, method, w->buf, w->len, buf, sizeof buf, &answer, HIVE_FOREVER);
  if (!ok(what, s, &answer)) return;
  const char *str;
  uint32_t len;
  if (hive_mpr_str(&answer, &str, &len) && hive_mpr_done(&answer)) text_set(t, str, len);
  else ok(what, HIVE_DECODE_ERROR, NULL);
}

/* Reads the init message {url, report}; false when it is not one. */
static bool read_init(int32_t *report) {
  if (hive_kind() != HIVE_INIT) return false;
  int32_t n = hive_size();
  if (n < 0 || n > (int32_t)sizeof in) return false;
  hive_read(in, n);
  hive_mp_reader r;
  hive_mpr_init(&r, in, (uint32_t)n);
  uint32_t pairs;
  bool have_url = false, have_report = false;
  if (!hive_mpr_map(&r, &pairs)) return false;
  for (uint32_t i = 0; i < pairs; i++) {
    if (hive_mpr_str_is(&r, "url")) {
      const char *s;
      uint32_t len;
      if (!hive_mpr_str(&r, &s, &len) || len > sizeof url) return false;
      for (url_len = 0; url_len < len; url_len++) url[url_len] = s[url_len];
      have_url = true;
    } else if (hive_mpr_str_is(&r, "report")) {
      if (!hive_mpr_pid(&r, report)) return false;
      have_report = true;
    } else if (!hive_mpr_skip(&r) || !hive_mpr_skip(&r)) {
      return false;
    }
  }
  return have_url && have_report && hive_mpr_done(&r);
}

static void put_text(hive_mp_writer *w, const char *key, const text *t) {
  hive_mpw_cstr(w, key);
  if (t->set) hive_mpw_str(w, t->s, t->len);
  else hive_mpw_nil(w);
}

static void put_int(hive_mp_writer *w, const char *key, bool set, int64_t v) {
  hive_mpw_cstr(w, key);
  if (set) hive_mpw_int(w, v);
  else hive_mpw_nil(w);
}

static int32_t lookup_status(int32_t address) { return address < 0 ? address : 0; }

HIVE_MAIN {
  int32_t report;
  if (!read_init(&report)) hive_exit_self("visitor-c: the init message is not {url, report}");

  /* kv: a key-value store of this actor's own. */
  int32_t kv = hive_service("kv");
  int64_t visits = 0;
  bool have_visits = false;
  if (kv >= 0) {
    if (call_str_int(kv, "kv.incr", "incr", "visits", &visits))
      have_visits = call_str_int(kv, "kv.incr", "incr", "visits", &visits);
    hive_mp_writer w;
    hive_mpw_init(&w, req, sizeof req);
    hive_mpw_array(&w, 2);
    hive_mpw_cstr(&w, "note");
    hive_mpw_cstr(&w, "written by " LANG);
    hive_mp_reader answer;
    if (ok("kv.put", hive_service_call(kv, "put", w.buf, w.len, buf, sizeof buf, &answer, HIVE_FOREVER), &answer)) {
      hive_mpw_init(&w, req, sizeof req);
      hive_mpw_cstr(&w, "note");
      call_for_text(kv, "kv.get", "get", &w, &note);
    }
  }

  /* http: a GET to the URL the host gave (an allowed origin). */
  int32_t http = hive_service("http");
  int64_t status = 0;
  bool have_status = false;
  if (http >= 0) {
    hive_mp_writer w;
    hive_mpw_init(&w, req, sizeof req);
    hive_mpw_map(&w, 1);
    hive_mpw_cstr(&w, "url");
    hive_mpw_str(&w, url, url_len);
    hive_mp_reader res;
    int32_t s = hive_service_call(http, "fetch", w.buf, w.len, buf, sizeof buf, &res, HIVE_FOREVER);
    uint32_t pairs;
    if (ok("http.fetch", s, &res) && hive_mpr_map(&res, &pairs)) {
      /* {status, headers, body}: the headers are skipped. */
      for (uint32_t i = 0; i < pairs; i++) {
        if (hive_mpr_str_is(&res, "status")) {
          have_status = hive_mpr_int(&res, &status);
        } else if (hive_mpr_str_is(&res, "body")) {
          const uint8_t *data;
          uint32_t len;
          if (hive_mpr_bin(&res, &data, &len)) text_set(&body, (const char *)data, len);
        } else {
          hive_mpr_skip(&res);
          hive_mpr_skip(&res);
        }
      }
      if (!hive_mpr_done(&res)) ok("http.fetch", HIVE_DECODE_ERROR, NULL);
    }
  }

  /* greeter: the host's own service. */
  int32_t greeter = hive_service("greeter");
  int64_t waited = 0;
  bool have_waited = false;
  if (greeter >= 0) {
    hive_mp_writer w;
    hive_mpw_init(&w, req, sizeof req);
    hive_mpw_cstr(&w, LANG);
    call_for_text(greeter, "greeter.greet", "greet", &w, &greeting);
    have_waited = ok("greeter.wait", hive_service_call_int(greeter, "wait", 20, &waited, HIVE_FOREVER), NULL);
  }

  hive_mp_writer w;
  hive_mpw_init(&w, out, sizeof out);
  hive_mpw_map(&w, 11);
  hive_mpw_cstr(&w, "lang");
  hive_mpw_cstr(&w, LANG);
  put_int(&w, "kv", true, lookup_status(kv));
  put_int(&w, "visits", have_visits, visits);
  put_text(&w, "note", &note);
  put_int(&w, "http", true, lookup_status(http));
  put_int(&w, "status", have_status, status);
  put_text(&w, "body", &body);
  put_int(&w, "greeter", true, lookup_status(greeter));
  put_text(&w, "greeting", &greeting);
  put_int(&w, "waited", have_waited, waited);
  hive_mpw_cstr(&w, "errors");
  hive_mpw_array(&w, error_count);
  for (uint32_t i = 0; i < error_count; i++) hive_mpw_str(&w, errors[i].s, errors[i].len);
  hive_send_mp(report, &w, HIVE_FOREVER);
}
