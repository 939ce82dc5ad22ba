/**
 * Messages: `receive`, the current message (`size`, `read`, `kind`,
 * `sender`), `send`, `reply` and `call` (docs/guest-abi.md, "Messages").
 * Sizes are checked before anything is copied, and copies are paid for.
 */
import { HIVE_FUEL, HiveStatus } from './abi.js';
import type { HiveFunctions } from './functions.js';
import { view, type GuestCall } from './guest.js';

type Messages = Pick<HiveFunctions, 'receive' | 'size' | 'read' | 'kind' | 'sender' | 'send' | 'reply' | 'call'>;

/** The message functions of one actor. */
export function messages(g: GuestCall): Messages {
  const { port } = g;
  return {
    receive: (timeout) => port.receive(timeout),

    size: () => {
      const cur = port.current();
      return cur === null ? HiveStatus.NOT_FOUND : cur.bytes.length;
    },

    read: (ptr, len) => {
      const cur = port.current();
      if (cur === null) return HiveStatus.NOT_FOUND;
      const n = Math.min(len >>> 0, cur.bytes.length);
      const into = view(g.mem(), ptr, n);
      g.charge(n / HIVE_FUEL.MESSAGE_BYTES_PER_FUEL);
      into.set(cur.bytes.subarray(0, n));
      return n;
    },

    kind: () => {
      const cur = port.current();
      return cur === null ? HiveStatus.NOT_FOUND : cur.kind;
    },

    sender: () => {
      const cur = port.current();
      return cur === null ? 0 : cur.from;
    },

    send: (to, ptr, len, timeout) => {
      const bytes = g.messageArg(ptr, len);
      if (bytes === null) return HiveStatus.TOO_LARGE;
      return port.send(to, g.copy(bytes), timeout);
    },

    reply: (ptr, len) => {
      const bytes = g.messageArg(ptr, len);
      if (bytes === null) return HiveStatus.TOO_LARGE;
      // Checked before the copy: a reply to nobody costs nothing more.
      if (port.replyTo === 0) return HiveStatus.NOT_FOUND;
      return port.reply(g.copy(bytes));
    },

    call: (to, ptr, len, timeout) => {
      const request = g.messageArg(ptr, len);
      if (request === null) return HiveStatus.TOO_LARGE;
      return port.call(to, g.copy(request), timeout);
    },
  };
}
