// A visitor, in AssemblyScript: uses the host's services `kv`, `http` and
// `greeter` (whichever it was granted) and reports what it saw.
//
// Init: {url: str, report: pid}. Sends `report` one map (every key is always
// there; nil where a service was not granted):
//
//   lang      "AssemblyScript"
//   kv        0, or the status of `service("kv")` (NOT_FOUND when not granted)
//   visits    kv.incr("visits"), called twice: 2
//   note      kv.get("note") after kv.put(["note", ...])
//   http      0, or the status of `service("http")`
//   status    http.fetch({url}).status
//   body      http.fetch({url}).body, as text
//   greeter   0, or the status of `service("greeter")`
//   greeting  greeter.greet("AssemblyScript")
//   waited    greeter.wait(20) (an async method of the host)
//   errors    ["<call>: <status> <message>", ...] for the calls that failed
//
// Build: node guest/assemblyscript/build.mjs (writes visitor.wasm).
import {
  Value, init, service, callService, lastStatus, serviceError, statusName, sendBytes, exit,
} from "../../guest/assemblyscript/assembly";

const LANG = "AssemblyScript";

const errors = Value.array();

// True when the last service call succeeded; otherwise notes why under "errors".
function ok(what: string): bool {
  const s = lastStatus();
  if (s == 0) return true;
  errors.push(Value.str(what + ": " + statusName(s) + " " + serviceError()));
  return false;
}

export function main(): void {
  const msg = init();
  if (msg == null) {
    exit("visitor: no init message");
    return;
  }
  const args = msg.value();
  const url = args.get("url").asString();
  const report = args.get("report").asPid();

  const out = Value.map();
  out.set("lang", Value.str(LANG));

  // kv: a key-value store of this actor's own.
  const kv = service("kv");
  out.set("kv", Value.int(kv < 0 ? kv : 0));
  let visits = Value.nil();
  let note = Value.nil();
  if (kv >= 0) {
    callService<string, i64>(kv, "incr", "visits");
    if (ok("kv.incr")) {
      const n = callService<string, i64>(kv, "incr", "visits");
      if (ok("kv.incr")) visits = Value.int(n);
    }
    const put = new Array<string>();
    put.push("note");
    put.push("written by " + LANG);
    callService<Array<string>, Value>(kv, "put", put);
    if (ok("kv.put")) {
      const text = callService<string, string>(kv, "get", "note");
      if (ok("kv.get")) note = Value.str(text);
    }
  }
  out.set("visits", visits);
  out.set("note", note);

  // http: a GET to the URL the host gave (an allowed origin).
  const http = service("http");
  out.set("http", Value.int(http < 0 ? http : 0));
  let status = Value.nil();
  let body = Value.nil();
  if (http >= 0) {
    const res = callService<Value, Value>(http, "fetch", Value.map().set("url", Value.str(url)));
    if (ok("http.fetch")) {
      status = Value.int(res.get("status").asI64());
      const bytes = res.get("body").bytes();
      body = Value.str(String.UTF8.decodeUnsafe(bytes.dataStart, <usize>bytes.length));
    }
  }
  out.set("status", status);
  out.set("body", body);

  // greeter: the host's own service.
  const greeter = service("greeter");
  out.set("greeter", Value.int(greeter < 0 ? greeter : 0));
  let greeting = Value.nil();
  let waited = Value.nil();
  if (greeter >= 0) {
    const text = callService<string, string>(greeter, "greet", LANG);
    if (ok("greeter.greet")) greeting = Value.str(text);
    const ms = callService<i32, i32>(greeter, "wait", 20);
    if (ok("greeter.wait")) waited = Value.int(ms);
  }
  out.set("greeting", greeting);
  out.set("waited", waited);
  out.set("errors", errors);

  sendBytes(report, out.encode());
}
