// Sink: keeps every int it is sent, in the order they come; a call with the
// str "take" is answered with a MessagePack array of the ints kept so far.
// Anything else is ignored. Used where reports must stay inside a group of
// actors (a group snapshot's cut then covers them too).
import { Encoder, receiveMessage, replyBytes, MESSAGE } from "../../guest/assemblyscript/assembly";

export function main(): void {
  const kept = new Array<i32>();
  while (true) {
    const m = receiveMessage(-1);
    if (m == null || m.kind != MESSAGE) continue;
    if (m.is("take")) {
      const e = new Encoder().arrayHeader(kept.length);
      for (let i = 0; i < kept.length; i++) e.int(kept[i]);
      replyBytes(e.finish());
      continue;
    }
    const d = m.decoder();
    const n = d.readI32();
    if (!d.error) kept.push(n);
  }
}
