// Probe: a command interpreter that lets tests drive every ABI function.
//
// Loop: receive(-1).
// - kind MESSAGE: the payload is a MessagePack array [cmd: str, ...args]. The
//   probe runs it and sends the MessagePack-encoded result to the sender of
//   the command, saved before running it (commands such as "receive", "call"
//   and "sleep" replace the current message), with send(saved, ..., -1).
//   A payload that is not such an array, or arguments of the wrong type, are
//   answered with {error: str}; an unknown command with {error: "unknown
//   command: <cmd>"}.
// - kind EXIT, DOWN or INIT: when a reporter is set, the probe sends it
//   {kind: "exit"|"down"|"init", from: pid (the sender), reason: str (exit,
//   down), ref: int (down), payload: bin (init: the init bytes)}; otherwise
//   the message is ignored.
// Before the first receive the init message, if any, is handled the same way
// (kind INIT). If the init payload is a map with a pid (or int) under
// "report", that becomes the reporter first, so the init report is sent.
//
// Pids in arguments may be ext type 1 or plain ints. Results are plain ints
// unless said otherwise.
//
//   ["echo", x]                  -> x, decoded and re-encoded by the SDK
//   ["self"]                     -> this actor's pid
//   ["send", pid, value, timeout]-> status (value sent as its own encoding)
//   ["call", pid, value, timeout]-> [status (0 or negative), answer bytes as bin | nil]
//   ["spawn", module, init: bin|nil, link: bool] -> pid or status
//   ["register", name]           -> status
//   ["unregister"]               -> status
//   ["lookup", name]             -> pid or status
//   ["link", pid] ["unlink", pid] ["demonitor", ref] -> status
//   ["monitor", pid]             -> ref
//   ["exit", pid, reason]        -> status (no answer when pid is self)
//   ["trap_exit", bool]          -> previous setting, 0 or 1
//   ["sleep", ms]                -> "slept"
//   ["now"]                      -> int (i64 ms)
//   ["random", n]                -> bin of n bytes
//   ["log", level, text]         -> 0
//   ["receive", timeout]         -> [size, kind, sender, payload bin] for the
//                                   next message, or [status, nil, nil, nil]
//   ["report", pid]              -> 0 (sets the reporter; 0 clears it)
//   ["trap", what]               -> no answer: "unreachable" | "div0" | "oob"
//                                   (load far outside memory) | "abort" (throw)
//   ["spin", iterations]         -> "spun" after that many iterations (-1: forever)
//   ["grow", pages]              -> memory.grow result (old size in pages, or -1)
//   ["flood", pid, n, timeout]   -> {ok, full, notfound, other}: counts of the
//                                   statuses of n sends of the ints 0..n-1
//   ["inc"]                      -> the internal counter, incremented
//   ["get"]                      -> the internal counter
//   ["abi_version"]              -> int
//   ["size"] ["kind"] ["sender"] -> the raw ABI calls on the current message
//                                   (which is this command)
import {
  Encoder, Message,
  init, receiveMessage, sendBytes, callBytes, send, lastStatus,
  self, spawn, register, unregister, lookup,
  link, unlink, monitor, demonitor, exitActor, trapExit,
  sleep, now, random, log, abiVersion, size, kind, sender,
  MESSAGE, EXIT, DOWN, INIT, OK, FULL, NOT_FOUND,
} from "../../guest/assemblyscript/assembly";

let reporter: i32 = 0;
let counter: i32 = 0;

/** Iterations run by "spin" so far (observable, so the loop is kept). */
export let spins: i64 = 0;

export function main(): void {
  const first = init();
  if (first != null) {
    const v = first.value();
    if (v.has("report")) reporter = v.get("report").asPid();
    signal(first);
  }
  while (true) {
    const m = receiveMessage(-1);
    if (m == null) continue;
    if (m.kind == MESSAGE) command(m);
    else signal(m);
  }
}

function signal(m: Message): void {
  if (reporter == 0) return;
  const e = new Encoder();
  if (m.kind == INIT) {
    e.mapHeader(3);
    e.str("kind").str("init");
    e.str("from").pid(m.sender);
    e.str("payload").bin(m.bytes);
  } else if (m.kind == EXIT || m.kind == DOWN) {
    const v = m.value();
    const down = m.kind == DOWN;
    e.mapHeader(down ? 4 : 3);
    e.str("kind").str(down ? "down" : "exit");
    e.str("from").pid(m.sender);
    e.str("reason").str(v.get("reason").asString());
    if (down) e.str("ref").int(v.get("ref").asI64());
  } else {
    return;
  }
  sendBytes(reporter, e.finish(), -1);
}

function answer(to: i32, e: Encoder): void {
  sendBytes(to, e.finish(), -1);
}

function failure(to: i32, text: string): void {
  answer(to, new Encoder().mapHeader(1).str("error").str(text));
}

function command(m: Message): void {
  const from = m.sender;
  const d = m.decoder();
  const argc = d.readArrayHeader();
  if (argc < 1) {
    failure(from, "bad command: not a non-empty array");
    return;
  }
  const cmd = d.readString();
  if (d.error) {
    failure(from, "bad command: no name");
    return;
  }
  const e = new Encoder();

  if (cmd == "echo") {
    const v = d.readValue();
    if (d.error) return failure(from, "bad arguments: echo");
    e.value(v);
  } else if (cmd == "self") {
    e.int(self());
  } else if (cmd == "send") {
    const to = d.readPid();
    const value = d.readRaw();
    const timeout = argc > 3 ? d.readI32() : -1;
    if (d.error) return failure(from, "bad arguments: send");
    e.int(sendBytes(to, value, timeout));
  } else if (cmd == "call") {
    const to = d.readPid();
    const value = d.readRaw();
    const timeout = argc > 3 ? d.readI32() : -1;
    if (d.error) return failure(from, "bad arguments: call");
    const answerMsg = callBytes(to, value, timeout);
    e.arrayHeader(2).int(lastStatus());
    if (answerMsg == null) e.nil();
    else e.bin(answerMsg.bytes);
  } else if (cmd == "spawn") {
    const module = d.readString();
    let initBytes: Uint8Array | null = null;
    if (argc > 2 && !d.readNil()) initBytes = d.readBin();
    const linked = argc > 3 ? d.readBool() : false;
    if (d.error) return failure(from, "bad arguments: spawn");
    e.int(spawn(module, initBytes, linked));
  } else if (cmd == "register") {
    const name = d.readString();
    if (d.error) return failure(from, "bad arguments: register");
    e.int(register(name));
  } else if (cmd == "unregister") {
    e.int(unregister());
  } else if (cmd == "lookup") {
    const name = d.readString();
    if (d.error) return failure(from, "bad arguments: lookup");
    e.int(lookup(name));
  } else if (cmd == "link" || cmd == "unlink" || cmd == "monitor") {
    const pid = d.readPid();
    if (d.error) return failure(from, "bad arguments: " + cmd);
    e.int(cmd == "link" ? link(pid) : cmd == "unlink" ? unlink(pid) : monitor(pid));
  } else if (cmd == "demonitor") {
    const ref = d.readI32();
    if (d.error) return failure(from, "bad arguments: demonitor");
    e.int(demonitor(ref));
  } else if (cmd == "exit") {
    const pid = d.readPid();
    const reason = d.readString();
    if (d.error) return failure(from, "bad arguments: exit");
    e.int(exitActor(pid, reason));
  } else if (cmd == "trap_exit") {
    const on = d.readBool();
    if (d.error) return failure(from, "bad arguments: trap_exit");
    e.int(trapExit(on) ? 1 : 0);
  } else if (cmd == "sleep") {
    const ms = d.readI32();
    if (d.error) return failure(from, "bad arguments: sleep");
    sleep(ms);
    e.str("slept");
  } else if (cmd == "now") {
    e.int(now());
  } else if (cmd == "random") {
    const n = d.readI32();
    if (d.error || n < 0) return failure(from, "bad arguments: random");
    e.bin(random(n));
  } else if (cmd == "log") {
    const level = d.readI32();
    const text = d.readString();
    if (d.error) return failure(from, "bad arguments: log");
    log(level, text);
    e.int(0);
  } else if (cmd == "receive") {
    const timeout = argc > 1 ? d.readI32() : -1;
    if (d.error) return failure(from, "bad arguments: receive");
    const next = receiveMessage(timeout);
    e.arrayHeader(4);
    if (next == null) e.int(lastStatus()).nil().nil().nil();
    else e.int(next.size).int(next.kind).pid(next.sender).bin(next.bytes);
  } else if (cmd == "report") {
    const pid = d.readPid();
    if (d.error) return failure(from, "bad arguments: report");
    reporter = pid;
    e.int(0);
  } else if (cmd == "trap") {
    const what = d.readString();
    trap(what);
    return failure(from, "unknown trap: " + what);
  } else if (cmd == "spin") {
    const n = d.readI64();
    if (d.error) return failure(from, "bad arguments: spin");
    spin(n);
    e.str("spun");
  } else if (cmd == "grow") {
    const pages = d.readI32();
    if (d.error) return failure(from, "bad arguments: grow");
    e.int(memory.grow(pages));
  } else if (cmd == "flood") {
    const to = d.readPid();
    const n = d.readI32();
    const timeout = argc > 3 ? d.readI32() : -1;
    if (d.error) return failure(from, "bad arguments: flood");
    let ok = 0, full = 0, notFound = 0, other = 0;
    for (let i = 0; i < n; i++) {
      const s = send<i32>(to, i, timeout);
      if (s == OK) ok++;
      else if (s == FULL) full++;
      else if (s == NOT_FOUND) notFound++;
      else other++;
    }
    e.mapHeader(4);
    e.str("ok").int(ok);
    e.str("full").int(full);
    e.str("notfound").int(notFound);
    e.str("other").int(other);
  } else if (cmd == "inc") {
    counter++;
    e.int(counter);
  } else if (cmd == "get") {
    e.int(counter);
  } else if (cmd == "abi_version") {
    e.int(abiVersion());
  } else if (cmd == "size") {
    e.int(size());
  } else if (cmd == "kind") {
    e.int(kind());
  } else if (cmd == "sender") {
    e.int(sender());
  } else {
    return failure(from, "unknown command: " + cmd);
  }
  answer(from, e);
}

function trap(what: string): void {
  if (what == "unreachable") {
    unreachable();
  } else if (what == "div0") {
    // what.length - 4 is 0 here, but not a constant the optimizer can fold.
    counter = counter / (what.length - 4);
  } else if (what == "oob") {
    counter += load<i32>(<usize>0xfffffff0 - <usize>(what.length - 3));
  } else if (what == "abort") {
    throw new Error("probe: abort requested");
  }
}

function spin(n: i64): void {
  if (n < 0) {
    while (true) spins++;
  }
  for (let i: i64 = 0; i < n; i++) spins++;
}
