/** Names: `register`, `unregister`, `lookup` (docs/guest-abi.md, "Actors"). Names are paid for by the byte. */
import { HiveStatus, MAX_NAME_BYTES } from './abi.js';
import type { HiveFunctions } from './functions.js';
import type { GuestCall } from './guest.js';

type Names = Pick<HiveFunctions, 'register' | 'unregister' | 'lookup'>;

/** The name functions of one actor. */
export function names(g: GuestCall): Names {
  const { port } = g;
  return {
    register: (ptr, len) => {
      const name = g.textArg(ptr, len, MAX_NAME_BYTES);
      if (name === null || name.length === 0) return HiveStatus.BAD_ARGUMENT;
      return port.register(name);
    },

    unregister: () => port.unregister(),

    lookup: (ptr, len) => {
      const name = g.textArg(ptr, len, MAX_NAME_BYTES);
      if (name === null) return HiveStatus.BAD_ARGUMENT;
      return port.lookup(name);
    },
  };
}
