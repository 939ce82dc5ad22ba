/**
 * Processes: `self`, `spawn`, links and monitors, `exit` and `trap_exit`
 * (docs/guest-abi.md, "Actors" and "Failure"). The spawner pays for making
 * the new actor: a fixed cost, its init message, its memory and tables.
 */
import { HIVE_FUEL, HiveStatus, MAX_NAME_BYTES, MAX_REASON_BYTES, SPAWN_LINK, SPAWN_SERVICES } from './abi.js';
import type { HiveFunctions } from './functions.js';

type Processes = Pick<HiveFunctions, 'self' | 'spawn' | 'link' | 'unlink' | 'monitor' | 'demonitor' | 'exit' | 'trap_exit'>;

/** The process functions (every actor's). */
export const processes: Processes = {
  self: (g) => g.ctx.caller,

  spawn: (g, namePtr, nameLen, initPtr, initLen, flags) => {
    const name = g.textArg(namePtr, nameLen, MAX_NAME_BYTES);
    if (name === null) return HiveStatus.BAD_ARGUMENT;
    const hasInit = initLen !== -1;
    if (hasInit && !g.messageArg(initPtr, initLen)) return HiveStatus.TOO_LARGE;
    if ((flags & ~(SPAWN_LINK | SPAWN_SERVICES)) !== 0) return HiveStatus.BAD_ARGUMENT;
    // Paid once the hive answers (at once, or before the guest resumes).
    return g.port.spawn(name, hasInit ? g.messageCopy(initPtr, initLen) : null, flags, (made) => {
      const st = made.status;
      // Paid when it tried to make the actor (not for a missing module or a refused init message).
      if (st > 0 || st === HiveStatus.SPAWN_FAILED || st === HiveStatus.LIMIT) g.charge(HIVE_FUEL.SPAWN_FUEL);
      // The new actor's memory and tables are the spawner's to pay; its start function runs in its own slices, on its own fuel.
      if (st > 0) g.charge(made.memoryBytes / HIVE_FUEL.MEMORY_BYTES_PER_FUEL + made.tableElements / HIVE_FUEL.ELEMENTS_PER_FUEL);
    });
  },

  link: (g, pid) => g.port.link(pid),

  unlink: (g, pid) => {
    g.port.unlink(pid);
    return HiveStatus.OK;
  },

  monitor: (g, pid) => g.port.monitor(pid),

  demonitor: (g, ref) => {
    // It looks through the queued signals for the monitor's DOWN message.
    g.charge(g.port.queuedSignals / HIVE_FUEL.SIGNALS_PER_FUEL);
    return g.port.demonitor(ref);
  },

  exit: (g, to, reasonPtr, reasonLen) => {
    const reason = g.textArg(reasonPtr, reasonLen, MAX_REASON_BYTES);
    if (reason === null) return HiveStatus.BAD_ARGUMENT;
    if (to === g.ctx.caller) return g.port.exitSelf(reason);
    // The signal may come back along links and end this actor: the binding's rules then stop it.
    return g.port.exit(to, reason);
  },

  trap_exit: (g, on) => (g.port.trapExit(on !== 0) ? 1 : 0),
};
