// Ping over the raw ABI: init {peer: pid, n: int, report: pid} (read with the
// SDK, once). Sends the ints 0 .. n-1 to peer one at a time as MessagePack
// uint32 (0xce and 4 big-endian bytes), written by hand into one buffer,
// waiting for an answer to each, then sends n to report and returns. The
// benchmark's ping-pong uses it so that its figure is the runtime's cost of a
// message, not the SDK's encoder (test/guests/ping.ts measures that path).
import { init, send, exit, statusName } from "../../guest/assemblyscript/assembly";
import * as hive from "../../guest/assemblyscript/assembly/abi";

export function main(): void {
  const msg = init();
  if (msg == null) {
    exit("ping-raw: no init message");
    return;
  }
  const args = msg.value();
  const peer = args.get("peer").asPid();
  const n = args.get("n").asI32();
  const report = args.get("report").asPid();
  const buf = new Uint8Array(5);
  const p = buf.dataStart;
  store<u8>(p, 0xce);
  for (let i = 0; i < n; i++) {
    store<u32>(p + 1, bswap<u32>(<u32>i));
    const status = hive.send(peer, p, 5, hive.FOREVER);
    if (status < 0) exit("ping-raw: send failed: " + statusName(status));
    const got = hive.receive(hive.FOREVER);
    if (got < 0) exit("ping-raw: receive failed: " + statusName(got));
  }
  send<i32>(report, n);
}
