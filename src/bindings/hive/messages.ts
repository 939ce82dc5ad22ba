/**
 * Messages: `receive`, the current message (`size`, `read`, `kind`,
 * `sender`), `send`, `reply` and `call` (docs/guest-abi.md, "Messages").
 * Sizes are checked before anything is copied, and copies are paid for.
 */
import { HIVE_FUEL, HiveStatus } from './abi.js';
import type { HiveFunctions } from './functions.js';
import { copyInto } from './guest.js';
import { Trap } from '../../vm/index.js';

type Messages = Pick<HiveFunctions, 'receive' | 'size' | 'read' | 'kind' | 'sender' | 'send' | 'reply' | 'call'>;

/** The message functions (every actor's). */
export const messages: Messages = {
  receive: (g, timeout) => g.port.receive(timeout),

  size: (g) => {
    const cur = g.port.current();
    return cur === null ? HiveStatus.NOT_FOUND : cur.bytes.length;
  },

  read: (g, ptr, len) => {
    const cur = g.port.current();
    if (cur === null) return HiveStatus.NOT_FOUND;
    const n = Math.min(len >>> 0, cur.bytes.length);
    const mem = g.mem();
    const p = ptr >>> 0;
    if (p + n > mem.byteLength) throw new Trap('out of bounds memory access');
    g.charge(n / HIVE_FUEL.MESSAGE_BYTES_PER_FUEL);
    copyInto(mem.u8, p, cur.bytes, n);
    return n;
  },

  kind: (g) => {
    const cur = g.port.current();
    return cur === null ? HiveStatus.NOT_FOUND : cur.kind;
  },

  sender: (g) => {
    const cur = g.port.current();
    return cur === null ? 0 : cur.from;
  },

  send: (g, to, ptr, len, timeout) => {
    if (!g.messageArg(ptr, len)) return HiveStatus.TOO_LARGE;
    return g.port.send(to, g.messageCopy(ptr, len), timeout);
  },

  reply: (g, ptr, len) => {
    if (!g.messageArg(ptr, len)) return HiveStatus.TOO_LARGE;
    // Checked before the copy: a reply to nobody costs nothing more.
    if (g.port.replyTo === 0) return HiveStatus.NOT_FOUND;
    return g.port.reply(g.messageCopy(ptr, len));
  },

  call: (g, to, ptr, len, timeout) => {
    if (!g.messageArg(ptr, len)) return HiveStatus.TOO_LARGE;
    return g.port.call(to, g.messageCopy(ptr, len), timeout);
  },
};
