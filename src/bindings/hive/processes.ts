/**
 * Processes: `self`, `spawn`, links and monitors, `exit` and `trap_exit`
 * (docs/guest-abi.md, "Actors" and "Failure"). The spawner pays for making
 * the new actor: a fixed cost, its init message, its memory and tables.
 */
import { HIVE_FUEL, HiveStatus, MAX_NAME_BYTES, MAX_REASON_BYTES } from './abi.js';
import type { HiveFunctions } from './functions.js';
import type { GuestCall } from './guest.js';

type Processes = Pick<HiveFunctions, 'self' | 'spawn' | 'link' | 'unlink' | 'monitor' | 'demonitor' | 'exit' | 'trap_exit'>;

/** The process functions of one actor. */
export function processes(g: GuestCall): Processes {
  const { port, ctx } = g;
  return {
    self: () => ctx.caller,

    spawn: (namePtr, nameLen, initPtr, initLen, flags) => {
      const name = g.textArg(namePtr, nameLen, MAX_NAME_BYTES);
      if (name === null) return HiveStatus.BAD_ARGUMENT;
      let init: Uint8Array | null = null;
      if (initLen !== -1) {
        init = g.messageArg(initPtr, initLen);
        if (init === null) return HiveStatus.TOO_LARGE;
      }
      if ((flags & ~1) !== 0) return HiveStatus.BAD_ARGUMENT;
      const made = port.spawn(name, init === null ? null : g.copy(init), (flags & 1) !== 0);
      const st = made.status;
      // Paid when it tried to make the actor (not for a missing module or a refused init message).
      if (st > 0 || st === HiveStatus.SPAWN_FAILED || st === HiveStatus.LIMIT) g.charge(HIVE_FUEL.SPAWN_FUEL);
      // The new actor's memory and tables are the spawner's to pay; its start function runs in its own slices, on its own fuel.
      if (st > 0) g.charge(made.memoryBytes / HIVE_FUEL.MEMORY_BYTES_PER_FUEL + made.tableElements / HIVE_FUEL.ELEMENTS_PER_FUEL);
      return st;
    },

    link: (pid) => port.link(pid),

    unlink: (pid) => {
      port.unlink(pid);
      return HiveStatus.OK;
    },

    monitor: (pid) => port.monitor(pid),

    demonitor: (ref) => {
      // It looks through the queued signals for the monitor's DOWN message.
      g.charge(port.queuedSignals / HIVE_FUEL.SIGNALS_PER_FUEL);
      return port.demonitor(ref);
    },

    exit: (to, reasonPtr, reasonLen) => {
      const reason = g.textArg(reasonPtr, reasonLen, MAX_REASON_BYTES);
      if (reason === null) return HiveStatus.BAD_ARGUMENT;
      if (to === ctx.caller) return port.exitSelf(reason);
      // The signal may come back along links and end this actor: the binding's rules then stop it.
      return port.exit(to, reason);
    },

    trap_exit: (on) => (port.trapExit(on !== 0) ? 1 : 0),
  };
}
