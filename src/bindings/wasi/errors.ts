/**
 * The errors the WASI binding gives its host: the guest's exit, and a saved
 * state that cannot be restored.
 */
import { Trap } from '../../vm/index.js';

/**
 * The guest called `proc_exit`. A Trap, so that it unwinds the guest: the
 * call that was running ends as `{ kind: 'trapped', trap }` with this object,
 * and `code` is the exit status.
 */
export class WasiExit extends Trap {
  readonly code: number;
  constructor(code: number) {
    super(`exit with code ${code}`);
    this.code = code;
  }
}

/** A saved WASI state is malformed, or does not fit the host it is restored on (a mount missing, a file gone). */
export class WasiStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasiStateError';
  }
}
