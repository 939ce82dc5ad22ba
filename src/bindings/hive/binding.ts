/**
 * The hive ABI as a binding: the `hive` module and AssemblyScript's `env`
 * helpers of one actor, built from the signature tables and the functions of
 * each capability, with the rules every import follows.
 */
import { Trap, type Imports, type Value } from '../../vm/index.js';
import type { Binding, BindingContext } from '../binding.js';
import { ABI_VERSION, HIVE_FUEL } from './abi.js';
import { buildModule, resultsOf, type EnvFunctions, type HiveFunctions, type Wrap } from './functions.js';
import { GuestCall } from './guest.js';
import { assemblyScriptLog, log } from './log.js';
import { messages } from './messages.js';
import { names } from './names.js';
import type { HivePort } from './port.js';
import { processes } from './processes.js';
import { random, seed } from './random.js';
import { ASSEMBLYSCRIPT_ENV_SIGNATURES, HIVE_V1_SIGNATURES } from './signatures.js';
import { time } from './time.js';

/**
 * The guest ABI `hive`, version 1: its imports are `hive` and `env` (abort,
 * trace, seed). They are made once and shared by every actor of a hive (a
 * spawn makes no functions): each call finds its actor from its caller, the
 * instance whose data is the actor's GuestCall (`callerFor` makes it, over
 * the port its actor system gives; the instance is made with it as
 * `InstanceOptions.data`). It has no state of its own: the actor's (mailbox,
 * links, names) is the actor system's, and is saved with the actor;
 * `save()` gives null.
 */
export class HiveAbi implements Binding<null> {
  readonly name = 'hive';
  private shared: Imports | null = null;

  /** The data of an actor's instance: what its imports reach of it. */
  static callerFor(port: HivePort, ctx: BindingContext): GuestCall {
    return new GuestCall(port, ctx);
  }

  /** The shared imports (whatever the context: calls find their caller themselves). */
  importsFor(_ctx?: BindingContext): Imports {
    if (this.shared !== null) return this.shared;
    const hive: HiveFunctions = {
      abi_version: () => ABI_VERSION,
      ...messages,
      ...processes,
      ...names,
      ...time,
      ...random,
      ...log,
    };
    const env: EnvFunctions = { ...assemblyScriptLog, ...seed };
    this.shared = {
      hive: buildModule('hive', HIVE_V1_SIGNATURES, hive, rules),
      env: buildModule('env', ASSEMBLYSCRIPT_ENV_SIGNATURES, env, rules),
    };
    return this.shared;
  }

  save(): null {
    return null;
  }

  restore(state: unknown): void {
    if (state !== null && state !== undefined) throw new TypeError(`the hive binding has no state of its own to restore, got ${typeof state}`);
  }
}

/**
 * The rules around every import. Only imports marked `fromStart` run before
 * `main` (from the module's start function, while the actor is being made: a
 * spawn that then fails must leave no timer, link or monitor behind). No
 * import runs once the actor's exit is decided (a host function killed it,
 * or a signal it sent came back along links): the slice ends there. And
 * when the host work an import charged spent the slice's fuel, the slice
 * ends at the import, which returns its results when the debt is paid (so
 * straight-line code does one such import per slice, not one after another).
 */
const rules: Wrap = (name, sig, run) => {
  const early = sig.fromStart === true;
  // abi_version costs only its call: it does nothing.
  const fuel = name === 'hive.abi_version' ? 0 : HIVE_FUEL.IMPORT_FUEL;
  // Seven parameters, the most any row has (trace): no rest array per call.
  return (g, a0, a1, a2, a3, a4, a5, a6) => {
    const port = g.port;
    if (!early && !port.started) throw new Trap(`${name} called from the start function: the actor does not exist yet`);
    const before = port.exitDecided();
    if (before !== null) return before;
    g.charged = false;
    g.charge(fuel);
    const out = run(g, a0!, a1!, a2!, a3!, a4!, a5!, a6!);
    const after = port.exitDecided();
    if (after !== null) return after;
    // An import that charged for its work may end a spent slice here, resuming later with its answer.
    if (g.charged && (out === undefined || typeof out === 'number' || typeof out === 'bigint')) return port.endSlice(resultsOf(sig, out) as Value[]) ?? out;
    return out;
  };
};
