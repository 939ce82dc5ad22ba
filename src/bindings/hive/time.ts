/** Time: `now` and `sleep`, on the hive's clock (docs/guest-abi.md, "Time, randomness, logs"). */
import type { HiveFunctions } from './functions.js';
import type { GuestCall } from './guest.js';

type Time = Pick<HiveFunctions, 'now' | 'sleep'>;

/** The time functions of one actor. */
export function time(g: GuestCall): Time {
  const { port, ctx } = g;
  return {
    now: () => BigInt(Math.floor(ctx.clock.now())),
    // Zero or less does not wait.
    sleep: (ms) => (ms <= 0 ? undefined : port.sleep(ms)),
  };
}
