/**
 * The guest ABI, version 1: the functions of the import module `hive` (and
 * AssemblyScript's `env` helpers), built for one actor. docs/guest-abi.md is
 * the contract; this file follows it function by function. Imports that wait
 * park the actor (they return PARK after setting `actor.wait`); the
 * scheduler resumes it with the import's result when the wait is over.
 */
import { Func, Memory, Trap, ValType, type FuncType, type HostFn, type Imports, type Value } from '../vm/index.js';
import { Actor, ExitRequest, PARK, type Wait } from './actor.js';
import { Kind, Status } from './envelope.js';

/** Version of the guest ABI this runtime implements. */
export const ABI_VERSION = 1;

const I32 = ValType.i32;
const I64 = ValType.i64;
const F64 = ValType.f64;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf16 = new TextDecoder('utf-16le');

/** Small i32 results, shared (results are read, never kept, by the engine). */
const SMALL: Value[][] = [];
for (let i = -16; i <= 256; i++) SMALL[i + 16] = [{ type: 'i32', value: i }];

/** One i32 result. */
function r32(n: number): Value[] {
  return n >= -16 && n <= 256 ? SMALL[n + 16]! : [{ type: 'i32', value: n | 0 }];
}
const VOID: Value[] = [];

function arg(args: Value[], i: number): number {
  return (args[i] as { value: number }).value;
}

/** The bytes at (ptr, len) of the guest's memory, as a view; traps when out of bounds. */
function view(mem: Memory, ptr: number, len: number): Uint8Array {
  const p = ptr >>> 0;
  const n = len >>> 0;
  if (p + n > mem.byteLength) throw new Trap('out of bounds memory access');
  return mem.u8.subarray(p, p + n);
}

/** A UTF-8 string argument, or null when it is not valid UTF-8. */
function text(mem: Memory, ptr: number, len: number): string | null {
  try {
    return utf8.decode(view(mem, ptr, len));
  } catch (e) {
    if (e instanceof Trap) throw e;
    return null;
  }
}

/** An AssemblyScript string (UTF-16, its byte length in the 4 bytes before it). */
function asString(mem: Memory, ptr: number): string {
  const p = ptr >>> 0;
  if (p === 0) return 'null';
  if (p < 4 || p > mem.byteLength) return '<bad string>';
  const len = mem.dv.getUint32(p - 4, true);
  if (p + len > mem.byteLength) return '<bad string>';
  return utf16.decode(mem.u8.subarray(p, p + len));
}

/** pino's level names by number. */
function levelName(n: number): 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' {
  if (n < 15) return 'trace';
  if (n < 25) return 'debug';
  if (n < 35) return 'info';
  if (n < 45) return 'warn';
  if (n < 55) return 'error';
  return 'fatal';
}

type Def = [params: ValType[], results: ValType[], fn: HostFn];

/** Builds the `hive` module (and `env` helpers) for one actor. */
export function hiveImports(actor: Actor): Imports {
  const hive = actor.hive;
  const mem = (): Memory => actor.memory();

  /** The deadline of a timeout, or Infinity (-1 or any negative: wait forever). */
  const deadlineOf = (timeout: number): number => (timeout < 0 ? Infinity : hive.clock.now() + timeout);
  const timerFor = (deadline: number, fire: () => void) => (deadline === Infinity ? null : hive.clock.setTimer(deadline, fire));

  /**
   * Sends; when the mailbox is full and the timeout allows, parks the actor
   * until there is room (the import then returns OK) or the timeout passes
   * (FULL).
   */
  const sendFrom = (to: number, bytes: Uint8Array, timeout: number): Value[] | typeof PARK => {
    const st = hive.route(actor, actor.id, to, bytes);
    if (st !== Status.FULL || timeout === 0) return r32(st);
    const deadline = deadlineOf(timeout);
    const w: Wait & { kind: 'send' } = {
      kind: 'send',
      deadline,
      to,
      sending: {
        env: { kind: Kind.MESSAGE, from: actor.id, bytes, ref: 0 },
        done: (status) => {
          if (actor.wait === w) actor.wakeWith(r32(status));
        },
      },
      timer: timerFor(deadline, () => {
        if (actor.wait !== w) return;
        hive.endpoint(to)?.unblock?.(w.sending);
        w.timer = null;
        actor.wakeWith(r32(Status.FULL));
      }),
    };
    hive.endpoint(to)!.block!(w.sending);
    actor.wait = w;
    return PARK;
  };

  const defs: Record<string, Def> = {
    abi_version: [[], [I32], () => r32(ABI_VERSION)],

    receive: [[I32], [I32], (args) => {
      const timeout = arg(args, 0);
      const env = actor.take();
      if (env !== undefined) {
        actor.current = env;
        return r32(env.bytes.length);
      }
      if (timeout === 0) return r32(Status.TIMEOUT);
      const deadline = deadlineOf(timeout);
      const w: Wait & { kind: 'receive' } = {
        kind: 'receive',
        deadline,
        timer: timerFor(deadline, () => {
          if (actor.wait !== w) return;
          w.timer = null;
          actor.wakeWith(r32(Status.TIMEOUT));
        }),
      };
      actor.wait = w;
      return PARK;
    }],

    size: [[], [I32], () => r32(actor.current === null ? Status.NOT_FOUND : actor.current.bytes.length)],

    read: [[I32, I32], [I32], (args) => {
      const cur = actor.current;
      if (cur === null) return r32(Status.NOT_FOUND);
      const n = Math.min(arg(args, 1) >>> 0, cur.bytes.length);
      view(mem(), arg(args, 0), n).set(cur.bytes.subarray(0, n));
      return r32(n);
    }],

    kind: [[], [I32], () => r32(actor.current === null ? Status.NOT_FOUND : actor.current.kind)],

    sender: [[], [I32], () => r32(actor.current === null ? 0 : actor.current.from)],

    send: [[I32, I32, I32, I32], [I32], (args) => {
      const bytes = view(mem(), arg(args, 1), arg(args, 2)).slice();
      return sendFrom(arg(args, 0), bytes, arg(args, 3));
    }],

    reply: [[I32, I32], [I32], (args) => {
      const bytes = view(mem(), arg(args, 0), arg(args, 1)).slice();
      if (actor.current === null || actor.current.from === 0) return r32(Status.NOT_FOUND);
      return sendFrom(actor.current.from, bytes, -1);
    }],

    call: [[I32, I32, I32, I32], [I32], (args) => {
      const to = arg(args, 0);
      const timeout = arg(args, 3);
      const bytes = view(mem(), arg(args, 1), arg(args, 2)).slice();
      const replyId = hive.openReply(actor, to);
      const st = hive.route(actor, replyId, to, bytes);
      if ((st !== Status.OK && st !== Status.FULL) || timeout === 0) {
        hive.closeReply(replyId);
        return r32(st === Status.OK ? Status.TIMEOUT : st);
      }
      // One deadline covers waiting for room in the mailbox and for the answer.
      const deadline = deadlineOf(timeout);
      const w: Wait & { kind: 'call' } = {
        kind: 'call',
        deadline,
        replyId,
        target: to,
        sending: null,
        timer: timerFor(deadline, () => {
          if (actor.wait !== w) return;
          w.timer = null;
          if (w.sending !== null) hive.endpoint(to)?.unblock?.(w.sending);
          hive.closeReply(replyId);
          actor.wakeWith(r32(Status.TIMEOUT));
        }),
      };
      if (st === Status.FULL) {
        w.sending = {
          env: { kind: Kind.MESSAGE, from: replyId, bytes, ref: 0 },
          done: (status) => {
            if (actor.wait !== w) return;
            w.sending = null;
            if (status === Status.OK) return; // now wait for the answer
            hive.closeReply(replyId);
            actor.wakeWith(r32(status));
          },
        };
        hive.endpoint(to)!.block!(w.sending);
      }
      actor.wait = w;
      return PARK;
    }],

    self: [[], [I32], () => r32(actor.id)],

    spawn: [[I32, I32, I32, I32, I32], [I32], (args) => {
      const m = mem();
      const name = text(m, arg(args, 0), arg(args, 1));
      if (name === null) return r32(Status.BAD_ARGUMENT);
      const initLen = arg(args, 3);
      const init = initLen === -1 ? null : view(m, arg(args, 2), initLen).slice();
      const flags = arg(args, 4);
      if ((flags & ~1) !== 0) return r32(Status.BAD_ARGUMENT);
      return r32(hive.spawnFromGuest(actor, name, init, (flags & 1) !== 0));
    }],

    register: [[I32, I32], [I32], (args) => {
      const name = text(mem(), arg(args, 0), arg(args, 1));
      if (name === null || name.length === 0 || arg(args, 1) > 255) return r32(Status.BAD_ARGUMENT);
      return r32(hive.registerName(actor, name));
    }],

    unregister: [[], [I32], () => r32(hive.unregisterName(actor))],

    lookup: [[I32, I32], [I32], (args) => {
      const name = text(mem(), arg(args, 0), arg(args, 1));
      if (name === null) return r32(Status.BAD_ARGUMENT);
      return r32(hive.lookupName(name) ?? Status.NOT_FOUND);
    }],

    link: [[I32], [I32], (args) => r32(hive.link(actor, arg(args, 0)))],

    unlink: [[I32], [I32], (args) => {
      hive.unlink(actor, arg(args, 0));
      return r32(Status.OK);
    }],

    monitor: [[I32], [I32], (args) => r32(hive.monitor(actor, arg(args, 0)))],

    demonitor: [[I32], [I32], (args) => r32(hive.demonitor(actor, arg(args, 0)))],

    exit: [[I32, I32, I32], [I32], (args) => {
      const reason = text(mem(), arg(args, 1), arg(args, 2));
      if (reason === null) return r32(Status.BAD_ARGUMENT);
      const to = arg(args, 0);
      if (to === actor.id) return new ExitRequest(reason);
      const st = hive.sendExit(actor.id, to, reason);
      // The signal may have come back along links and ended this actor: stop now.
      if (actor.pendingExit !== null) return new ExitRequest(actor.pendingExit);
      return r32(st);
    }],

    trap_exit: [[I32], [I32], (args) => {
      const prev = actor.trapExit ? 1 : 0;
      actor.trapExit = arg(args, 0) !== 0;
      return r32(prev);
    }],

    sleep: [[I32], [], (args) => {
      const ms = arg(args, 0);
      if (ms <= 0) return VOID;
      const deadline = hive.clock.now() + ms;
      const w: Wait & { kind: 'sleep' } = {
        kind: 'sleep',
        deadline,
        timer: hive.clock.setTimer(deadline, () => {
          if (actor.wait !== w) return;
          w.timer = null;
          actor.wakeWith(VOID);
        }),
      };
      actor.wait = w;
      return PARK;
    }],

    now: [[], [I64], () => [{ type: 'i64', value: BigInt(Math.floor(hive.clock.now())) }]],

    random: [[I32, I32], [], (args) => {
      actor.rng.fill(view(mem(), arg(args, 0), arg(args, 1)));
      return VOID;
    }],

    log: [[I32, I32, I32], [], (args) => {
      const line = text(mem(), arg(args, 1), arg(args, 2)) ?? '<not UTF-8>';
      actor.logger[levelName(arg(args, 0))](line);
      return VOID;
    }],
  };

  const hiveModule: Record<string, Func> = {};
  for (const [name, [params, results, fn]] of Object.entries(defs)) hiveModule[name] = Func.host({ params, results } as FuncType, fn);

  const env: Record<string, Func> = {
    abort: Func.host({ params: [I32, I32, I32, I32], results: [] }, (args) => {
      const m = mem();
      return new ExitRequest(`abort: ${asString(m, arg(args, 0))} at ${asString(m, arg(args, 1))}:${arg(args, 2)}:${arg(args, 3)}`);
    }),
    trace: Func.host({ params: [I32, I32, F64, F64, F64, F64, F64], results: [] }, (args) => {
      const n = Math.max(0, Math.min(5, arg(args, 1)));
      const nums: number[] = [];
      const f = new Float64Array(1);
      const b = new BigUint64Array(f.buffer);
      for (let i = 0; i < n; i++) {
        b[0] = (args[2 + i] as { bits: bigint }).bits;
        nums.push(f[0]!);
      }
      actor.logger.debug({ values: nums }, asString(mem(), arg(args, 0)));
      return VOID;
    }),
    seed: Func.host({ params: [], results: [F64] }, () => {
      const f = new Float64Array([actor.rng.float() * 2 ** 53]);
      return [{ type: 'f64', bits: new BigUint64Array(f.buffer)[0]! }];
    }),
  };

  return { hive: hiveModule, env };
}
