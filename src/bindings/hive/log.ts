/**
 * Logs, and the rest of AssemblyScript's `env` helpers: `log`, `env.trace`,
 * and `env.abort`, which ends the actor (docs/guest-abi.md). Lines are cut
 * to MAX_LOG_BYTES and paid for by what was read.
 */
import { HIVE_FUEL, MAX_LOG_BYTES } from './abi.js';
import type { EnvFunctions, HiveFunctions } from './functions.js';
import { asString, decode, head, levelName, view } from './guest.js';

const { LOG_FUEL, FUEL_PER_TEXT_BYTE } = HIVE_FUEL;

/** `log` (every actor's). */
export const log: Pick<HiveFunctions, 'log'> = {
  log: (g, level, ptr, len) => {
    const all = view(g.mem(), ptr, len);
    const bytes = head(all, MAX_LOG_BYTES);
    g.charge(LOG_FUEL + bytes.length * FUEL_PER_TEXT_BYTE);
    const line = decode(bytes) ?? '<not UTF-8>';
    g.ctx.logger.log(levelName(level), bytes.length < all.length ? `${line}…` : line);
  },
};

/** AssemblyScript's `env.abort` and `env.trace` (every actor's). */
export const assemblyScriptLog: Pick<EnvFunctions, 'abort' | 'trace'> = {
  abort: (g, msg, file, line, column) => {
    const m = g.mem();
    // At most 200 and 100 characters: the reason stays under MAX_REASON_BYTES.
    return g.port.exitSelf(`abort: ${asString(m, msg, 400)} at ${asString(m, file, 200)}:${line}:${column}`);
  },

  trace: (g, msg, n, a0, a1, a2, a3, a4) => {
    const count = Math.max(0, Math.min(5, n));
    const values = [a0, a1, a2, a3, a4].slice(0, count);
    const text = asString(g.mem(), msg, 2 * MAX_LOG_BYTES);
    g.charge(LOG_FUEL + 2 * text.length * FUEL_PER_TEXT_BYTE);
    g.ctx.logger.log('debug', text, { values });
  },
};
