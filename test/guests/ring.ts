// Token ring: one module ("ring") for every node.
//
// Leader, init {n: int, rounds: int, report: pid}: spawns n-1 nodes, each
// with init {next: pid}, chained so that the last one spawned is the
// leader's next and the first one spawned points back at the leader. It
// sends token 0 to next; every node (the leader too) forwards token+1. Each
// time the token comes back to the leader a round is complete; after
// `rounds` rounds the leader sends the final token (n * rounds) to report,
// then sends "stop" around the ring, waits for it to come back and returns.
//
// Node, init {next: pid}: forwards int tokens as token+1 to next; on "stop"
// forwards "stop" and returns.
import {
  init, self, spawnWith, send, receiveMessage, exit, lastStatus, statusName, Value,
} from "../../guest/assemblyscript/assembly";

export function main(): void {
  const msg = init();
  if (msg == null) {
    exit("ring: no init message");
    return;
  }
  const args = msg.value();
  if (args.has("next")) node(args.get("next").asPid());
  else leader(args.get("n").asI32(), args.get("rounds").asI32(), args.get("report").asPid());
}

function node(next: i32): void {
  while (true) {
    const m = receiveMessage();
    if (m == null) continue;
    const d = m.decoder();
    const token = d.readI64(); // ints beyond 32 bits come from the host as float64: readI64 takes both
    if (d.ok) {
      forward(next, token + 1);
    } else if (m.is("stop")) {
      send<string>(next, "stop");
      return;
    }
  }
}

function leader(n: i32, rounds: i32, report: i32): void {
  let next = self();
  for (let i = 1; i < n; i++) {
    const pid = spawnWith<Value>("ring", Value.map().set("next", Value.pid(next)));
    if (pid <= 0) exit("ring: spawn failed: " + statusName(pid));
    next = pid;
  }
  let token: i64 = 0;
  let round = 0;
  if (rounds > 0) {
    forward(next, 0);
    while (true) {
      const m = receiveMessage();
      if (m == null) continue;
      const d = m.decoder();
      const t = d.readI64();
      if (!d.ok) continue;
      token = t + 1;
      round++;
      if (round >= rounds) break;
      forward(next, token);
    }
  }
  send<i64>(report, token);
  send<string>(next, "stop");
  // Wait for "stop" to come back round the ring.
  while (true) {
    const m = receiveMessage();
    if (m != null && m.is("stop")) return;
  }
}

function forward(next: i32, token: i64): void {
  if (send<i64>(next, token) < 0) exit("ring: send failed: " + statusName(lastStatus()));
}
