/** Names: `register`, `unregister`, `lookup` (docs/guest-abi.md, "Actors"). Names are paid for by the byte. */
import { HiveStatus, MAX_NAME_BYTES } from './abi.js';
import type { HiveFunctions } from './functions.js';

type Names = Pick<HiveFunctions, 'register' | 'unregister' | 'lookup'>;

/** The name functions (every actor's). */
export const names: Names = {
  register: (g, ptr, len) => {
    const name = g.textArg(ptr, len, MAX_NAME_BYTES);
    if (name === null || name.length === 0) return HiveStatus.BAD_ARGUMENT;
    return g.port.register(name);
  },

  unregister: (g) => g.port.unregister(),

  lookup: (g, ptr, len) => {
    const name = g.textArg(ptr, len, MAX_NAME_BYTES);
    if (name === null) return HiveStatus.BAD_ARGUMENT;
    return g.port.lookup(name);
  },
};
