/**
 * Randomness: `random`, and AssemblyScript's `env.seed`, from the actor's own
 * generator (deterministic for the hive's seed, carried by snapshots).
 */
import { HIVE_FUEL } from './abi.js';
import type { EnvFunctions, HiveFunctions } from './functions.js';
import { view, type GuestCall } from './guest.js';

/** `random` of one actor. */
export function random(g: GuestCall): Pick<HiveFunctions, 'random'> {
  return {
    random: (ptr, len) => {
      const bytes = view(g.mem(), ptr, len);
      g.charge(bytes.length * HIVE_FUEL.FUEL_PER_RANDOM_BYTE);
      g.ctx.random.fill(bytes);
    },
  };
}

/** AssemblyScript's `env.seed` of one actor (so its `Math.random` is deterministic). */
export function seed(g: GuestCall): Pick<EnvFunctions, 'seed'> {
  return { seed: () => g.ctx.random.float() * 2 ** 53 };
}
