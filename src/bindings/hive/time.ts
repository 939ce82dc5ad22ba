/** Time: `now` and `sleep`, on the hive's clock (docs/guest-abi.md, "Time, randomness, logs"). */
import type { HiveFunctions } from './functions.js';

type Time = Pick<HiveFunctions, 'now' | 'sleep'>;

/** The time functions (every actor's). */
export const time: Time = {
  now: (g) => BigInt(Math.floor(g.ctx.clock.now())),
  // Zero or less does not wait.
  sleep: (g, ms) => (ms <= 0 ? undefined : g.port.sleep(ms)),
};
