// Echo server: answers every message with the same bytes, unchanged. Used by
// the ping-pong tests and benchmarks, so it allocates nothing per message:
// it uses the raw ABI and one buffer that grows when needed.
import * as hive from "../../guest/assemblyscript/assembly/abi";

export function main(): void {
  let buf = new Uint8Array(1024);
  while (true) {
    const n = hive.receive(hive.FOREVER);
    if (n < 0) continue;
    if (n > buf.length) buf = new Uint8Array(n);
    hive.read(buf.dataStart, n);
    hive.reply(buf.dataStart, n);
  }
}
