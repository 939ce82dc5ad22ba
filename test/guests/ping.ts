// Ping: init {peer: pid, n: int, report: pid}. Sends the ints 0 .. n-1 to
// peer one at a time, waiting for an answer to each, then sends n to report
// and returns (exit reason "normal").
import { init, send, receive, exit, statusName } from "../../guest/assemblyscript/assembly";

export function main(): void {
  const msg = init();
  if (msg == null) {
    exit("ping: no init message");
    return;
  }
  const args = msg.value();
  const peer = args.get("peer").asPid();
  const n = args.get("n").asI32();
  const report = args.get("report").asPid();
  for (let i = 0; i < n; i++) {
    const status = send<i32>(peer, i);
    if (status < 0) exit("ping: send failed: " + statusName(status));
    // Any answer will do (one that is not an int only sets lastStatus() to
    // DECODE_ERROR); receive<i32> decodes without allocating.
    receive<i32>();
  }
  send<i32>(report, n);
}
