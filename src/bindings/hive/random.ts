/**
 * Randomness: `random`, and AssemblyScript's `env.seed`, from the actor's own
 * generator (deterministic for the hive's seed, carried by snapshots).
 */
import { HIVE_FUEL } from './abi.js';
import type { EnvFunctions, HiveFunctions } from './functions.js';
import { view } from './guest.js';

/** `random` (every actor's). */
export const random: Pick<HiveFunctions, 'random'> = {
  random: (g, ptr, len) => {
    const bytes = view(g.mem(), ptr, len);
    g.charge(bytes.length * HIVE_FUEL.FUEL_PER_RANDOM_BYTE);
    g.ctx.random.fill(bytes);
  },
};

/** AssemblyScript's `env.seed` (every actor's, so its `Math.random` is deterministic). */
export const seed: Pick<EnvFunctions, 'seed'> = { seed: (g) => g.ctx.random.float() * 2 ** 53 };
