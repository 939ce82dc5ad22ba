/**
 * The hive ABI as a binding: the `hive` module and AssemblyScript's `env`
 * helpers of one actor, built from the signature tables and the functions of
 * each capability, with the rules every import follows.
 */
import { Trap, type HostFn, type Imports } from '../../vm/index.js';
import type { Binding, BindingContext } from '../binding.js';
import { ABI_VERSION, HIVE_FUEL } from './abi.js';
import { buildModule, type EnvFunctions, type HiveFunctions, type Wrap } from './functions.js';
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
 * The guest ABI `hive`, version 1, for one actor, over the port its actor
 * system gives (the actor the context's `caller` names). Its imports are
 * `hive` and `env` (abort, trace, seed). It has no state of its own: the
 * actor's (mailbox, links, names) is the actor system's, and is saved with
 * the actor; `save()` gives null.
 */
export class HiveAbi implements Binding<null> {
  readonly name = 'hive';

  constructor(private readonly port: HivePort) {}

  importsFor(ctx: BindingContext): Imports {
    const g = new GuestCall(this.port, ctx);
    const hive: HiveFunctions = {
      abi_version: () => ABI_VERSION,
      ...messages(g),
      ...processes(g),
      ...names(g),
      ...time(g),
      ...random(g),
      ...log(g),
    };
    const env: EnvFunctions = { ...assemblyScriptLog(g), ...seed(g) };
    const wrap = rules(g);
    return {
      hive: buildModule('hive', HIVE_V1_SIGNATURES, hive, wrap),
      env: buildModule('env', ASSEMBLYSCRIPT_ENV_SIGNATURES, env, wrap),
    };
  }

  save(): null {
    return null;
  }

  restore(state: unknown): void {
    if (state !== null && state !== undefined) throw new TypeError(`the hive binding has no state of its own to restore, got ${typeof state}`);
  }
}

/**
 * The rules around every import of one actor. Only imports marked
 * `fromStart` run before `main` (from the module's start function, while the
 * actor is being made: a spawn that then fails must leave no timer, link or
 * monitor behind). No import runs once the actor's exit is decided (a host
 * function killed it, or a signal it sent came back along links): the slice
 * ends there. And when the host work an import charged spent the slice's
 * fuel, the slice ends at the import, which returns its results when the
 * debt is paid (so straight-line code does one such import per slice, not
 * one after another).
 */
function rules(g: GuestCall): Wrap {
  const { port } = g;
  return (name, sig, run): HostFn => {
    const early = sig.fromStart === true;
    // abi_version costs only its call: it does nothing.
    const fuel = name === 'hive.abi_version' ? 0 : HIVE_FUEL.IMPORT_FUEL;
    return (args) => {
      if (!early && !port.started) throw new Trap(`${name} called from the start function: the actor does not exist yet`);
      const before = port.exitDecided();
      if (before !== null) return before;
      g.charged = false;
      g.charge(fuel);
      const out = run(args);
      const after = port.exitDecided();
      if (after !== null) return after;
      if (g.charged && Array.isArray(out)) return port.endSlice(out) ?? out;
      return out;
    };
  };
}
