/**
 * The guest ABI, version 1: the functions of the import module `hive` (and
 * AssemblyScript's `env` helpers), built for one actor. docs/guest-abi.md is
 * the contract; this file follows it function by function. Imports that wait
 * park the actor (they return PARK after setting `actor.wait`); the
 * scheduler resumes it with the import's result when the wait is over.
 * Host work that grows with an import's arguments is paid for in fuel, and
 * sizes are checked before anything is copied, so no import does more work
 * than the guest pays for.
 */
import { Func, Memory, Trap, ValType, type FuncType, type HostFn, type Imports, type Value } from '../vm/index.js';
import { Actor, ExitRequest, PARK, YIELD, type Wait } from './actor.js';
import { Kind, Status } from './envelope.js';

/** Version of the guest ABI this runtime implements. */
export const ABI_VERSION = 1;

/** Longest registered name or module name, in bytes of UTF-8. */
export const MAX_NAME_BYTES = 255;
/** Longest exit reason a guest may give, in bytes of UTF-8 (reasons are copied into every EXIT and DOWN message). */
export const MAX_REASON_BYTES = 1024;
/** Longest log line, in bytes of UTF-8: longer lines are cut. */
export const MAX_LOG_BYTES = 8192;

// Fuel for host work, on top of the one unit of the call instruction
// (docs/guest-abi.md, "Costs"). Measured against the engine, where one unit
// is about one instruction: the bulk memory instructions charge one unit per
// 64 bytes, random bytes cost about one instruction each, a spawn about ten
// thousand.
/** Bytes of a message copied from or into memory per unit. */
const MESSAGE_BYTES_PER_FUEL = 16;
/** Units per byte of a string read (names, reasons, log lines). */
const FUEL_PER_TEXT_BYTE = 1;
/** Units per random byte. */
const FUEL_PER_RANDOM_BYTE = 1;
/** Units of a log line, besides its bytes (formatting and writing it). */
const LOG_FUEL = 300;
/**
 * Units of every import besides `abi_version`, on top of the call: the
 * runtime's own work for the simplest import (a status, a map look-up) was
 * measured at 8 to 40 times an instruction, so slices of import calls held
 * the thread up to 20 times longer than slices of plain code.
 */
const IMPORT_FUEL = 40;
/** Units of a spawn, besides its init message, its memory and its start function. */
const SPAWN_FUEL = 10_000;
/** Bytes of a new actor's memory per unit (as memory.fill charges to clear them). */
const MEMORY_BYTES_PER_FUEL = 64;
/** Table elements of a new actor per unit (as table.fill charges to set them). */
const ELEMENTS_PER_FUEL = 8;
/** Queued signals `demonitor` looks through per unit. */
const SIGNALS_PER_FUEL = 8;

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

/** UTF-8 bytes as a string, or null when they are not valid UTF-8. */
function decode(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

/** The first bytes of UTF-8 text, at most `max`, not cutting a character in two. */
function head(bytes: Uint8Array, max: number): Uint8Array {
  if (bytes.length <= max) return bytes;
  let n = max;
  while (n > 0 && (bytes[n]! & 0xc0) === 0x80) n--;
  return bytes.subarray(0, n);
}

/** An AssemblyScript string (UTF-16, its byte length in the 4 bytes before it), cut to `max` bytes (marked with …). */
function asString(mem: Memory, ptr: number, max: number): string {
  const p = ptr >>> 0;
  if (p === 0) return 'null';
  if (p < 4 || p > mem.byteLength) return '<bad string>';
  const len = mem.dv.getUint32(p - 4, true);
  if (p + len > mem.byteLength) return '<bad string>';
  if (len <= max) return utf16.decode(mem.u8.subarray(p, p + len));
  return `${utf16.decode(mem.u8.subarray(p, p + (max & ~1)))}…`;
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

  /** Whether the import running now charged fuel. */
  let charged = false;
  /** Charges whole units of fuel for host work (fractions are dropped, as the engine's bulk instructions do). */
  const charge = (units: number): void => {
    const n = Math.floor(units);
    if (n <= 0) return;
    actor.charge(n);
    charged = true;
  };

  /** A string argument, paid for: null when longer than `max` bytes or not UTF-8 (BAD_ARGUMENT); traps when out of bounds. */
  const textArg = (ptr: number, len: number, max: number): string | null => {
    const bytes = view(mem(), ptr, len);
    if (bytes.length > max) return null;
    charge(bytes.length * FUEL_PER_TEXT_BYTE);
    return decode(bytes);
  };

  /** A message argument, not copied yet: null when larger than the hive's maxMessageBytes (TOO_LARGE); traps when out of bounds. */
  const messageArg = (ptr: number, len: number): Uint8Array | null => {
    const bytes = view(mem(), ptr, len);
    return bytes.length > hive.maxMessageBytes ? null : bytes;
  };

  /** A copy of a message's bytes, paid for. */
  const copy = (bytes: Uint8Array): Uint8Array => {
    charge(bytes.length / MESSAGE_BYTES_PER_FUEL);
    return bytes.slice();
  };

  /**
   * Wraps an import. `hive` imports refuse to run before `main` (from the
   * module's start function, while the actor is being made: a spawn that then
   * fails must leave no timer, link or monitor behind). No import runs once
   * the actor's exit is decided (a host function killed it, or a signal it
   * sent came back along links): the slice ends there. And when the host work
   * an import charged spent the slice's fuel, the slice ends at the import,
   * which returns its results when the debt is paid (so straight-line code
   * does one such import per slice, not one after another).
   */
  const guard = (name: string, fn: HostFn, inStart: boolean): HostFn => (args) => {
    if (!inStart && !actor.started) throw new Trap(`${name} called from the start function: the actor does not exist yet`);
    if (actor.pendingExit !== null) return new ExitRequest(actor.pendingExit);
    charged = false;
    if (name !== 'hive.abi_version') charge(IMPORT_FUEL);
    const out = fn(args);
    if (actor.pendingExit !== null) return new ExitRequest(actor.pendingExit);
    if (charged && Array.isArray(out) && actor.sliceSpent) {
      actor.resumeWith = out;
      return YIELD;
    }
    return out;
  };

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
        env: { kind: Kind.MESSAGE, from: actor.id, bytes, ref: 0, payer: actor.tree },
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
      const into = view(mem(), arg(args, 0), n);
      charge(n / MESSAGE_BYTES_PER_FUEL);
      into.set(cur.bytes.subarray(0, n));
      return r32(n);
    }],

    kind: [[], [I32], () => r32(actor.current === null ? Status.NOT_FOUND : actor.current.kind)],

    sender: [[], [I32], () => r32(actor.current === null ? 0 : actor.current.from)],

    send: [[I32, I32, I32, I32], [I32], (args) => {
      const bytes = messageArg(arg(args, 1), arg(args, 2));
      if (bytes === null) return r32(Status.TOO_LARGE);
      return sendFrom(arg(args, 0), copy(bytes), arg(args, 3));
    }],

    reply: [[I32, I32], [I32], (args) => {
      const bytes = messageArg(arg(args, 0), arg(args, 1));
      if (bytes === null) return r32(Status.TOO_LARGE);
      if (actor.current === null || actor.current.from === 0) return r32(Status.NOT_FOUND);
      return sendFrom(actor.current.from, copy(bytes), -1);
    }],

    call: [[I32, I32, I32, I32], [I32], (args) => {
      const to = arg(args, 0);
      const timeout = arg(args, 3);
      const request = messageArg(arg(args, 1), arg(args, 2));
      if (request === null) return r32(Status.TOO_LARGE);
      const bytes = copy(request);
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
          env: { kind: Kind.MESSAGE, from: replyId, bytes, ref: 0, payer: actor.tree },
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
      const name = textArg(arg(args, 0), arg(args, 1), MAX_NAME_BYTES);
      if (name === null) return r32(Status.BAD_ARGUMENT);
      const initLen = arg(args, 3);
      let init: Uint8Array | null = null;
      if (initLen !== -1) {
        init = messageArg(arg(args, 2), initLen);
        if (init === null) return r32(Status.TOO_LARGE);
      }
      const flags = arg(args, 4);
      if ((flags & ~1) !== 0) return r32(Status.BAD_ARGUMENT);
      const st = hive.spawnFromGuest(actor, name, init === null ? null : copy(init), (flags & 1) !== 0);
      if (st > 0 || st === Status.SPAWN_FAILED || st === Status.LIMIT) charge(SPAWN_FUEL);
      // The new actor's memory and tables are the spawner's to pay; its start function runs in its own slices, on its own fuel.
      const child = st > 0 ? hive.actor(st) : undefined;
      if (child !== undefined && child.instance !== null) {
        let bytes = 0;
        for (const m of child.instance.inst.memories) bytes += m.byteLength;
        let elements = 0;
        for (const t of child.instance.inst.tables) elements += t.length;
        charge(bytes / MEMORY_BYTES_PER_FUEL + elements / ELEMENTS_PER_FUEL);
      }
      return r32(st);
    }],

    register: [[I32, I32], [I32], (args) => {
      const name = textArg(arg(args, 0), arg(args, 1), MAX_NAME_BYTES);
      if (name === null || name.length === 0) return r32(Status.BAD_ARGUMENT);
      return r32(hive.registerName(actor, name));
    }],

    unregister: [[], [I32], () => r32(hive.unregisterName(actor))],

    lookup: [[I32, I32], [I32], (args) => {
      const name = textArg(arg(args, 0), arg(args, 1), MAX_NAME_BYTES);
      if (name === null) return r32(Status.BAD_ARGUMENT);
      return r32(hive.lookupName(name) ?? Status.NOT_FOUND);
    }],

    link: [[I32], [I32], (args) => r32(hive.guestLink(actor, arg(args, 0)))],

    unlink: [[I32], [I32], (args) => {
      hive.unlink(actor, arg(args, 0));
      return r32(Status.OK);
    }],

    monitor: [[I32], [I32], (args) => r32(hive.monitor(actor, arg(args, 0)))],

    demonitor: [[I32], [I32], (args) => {
      // It looks through the queued signals for the monitor's DOWN message.
      charge(actor.signals.length / SIGNALS_PER_FUEL);
      return r32(hive.demonitor(actor, arg(args, 0)));
    }],

    exit: [[I32, I32, I32], [I32], (args) => {
      const reason = textArg(arg(args, 1), arg(args, 2), MAX_REASON_BYTES);
      if (reason === null) return r32(Status.BAD_ARGUMENT);
      const to = arg(args, 0);
      if (to === actor.id) return new ExitRequest(reason);
      // The signal may come back along links and end this actor: the guard then stops it.
      return r32(hive.guestExit(actor, to, reason));
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
      const bytes = view(mem(), arg(args, 0), arg(args, 1));
      charge(bytes.length * FUEL_PER_RANDOM_BYTE);
      actor.rng.fill(bytes);
      return VOID;
    }],

    log: [[I32, I32, I32], [], (args) => {
      const all = view(mem(), arg(args, 1), arg(args, 2));
      const bytes = head(all, MAX_LOG_BYTES);
      charge(LOG_FUEL + bytes.length * FUEL_PER_TEXT_BYTE);
      const line = decode(bytes) ?? '<not UTF-8>';
      actor.log(levelName(arg(args, 0)), bytes.length < all.length ? `${line}…` : line);
      return VOID;
    }],
  };

  const hiveModule: Record<string, Func> = {};
  for (const [name, [params, results, fn]] of Object.entries(defs)) {
    // abi_version touches nothing: a start function may check it.
    hiveModule[name] = Func.host({ params, results } as FuncType, guard(`hive.${name}`, fn, name === 'abi_version'));
  }

  const env: Record<string, Func> = {
    abort: Func.host({ params: [I32, I32, I32, I32], results: [] }, guard('env.abort', (args) => {
      const m = mem();
      // At most 200 and 100 characters: the reason stays under MAX_REASON_BYTES.
      return new ExitRequest(`abort: ${asString(m, arg(args, 0), 400)} at ${asString(m, arg(args, 1), 200)}:${arg(args, 2)}:${arg(args, 3)}`);
    }, true)),
    trace: Func.host({ params: [I32, I32, F64, F64, F64, F64, F64], results: [] }, guard('env.trace', (args) => {
      const n = Math.max(0, Math.min(5, arg(args, 1)));
      const nums: number[] = [];
      const f = new Float64Array(1);
      const b = new BigUint64Array(f.buffer);
      for (let i = 0; i < n; i++) {
        b[0] = (args[2 + i] as { bits: bigint }).bits;
        nums.push(f[0]!);
      }
      const msg = asString(mem(), arg(args, 0), 2 * MAX_LOG_BYTES);
      charge(LOG_FUEL + 2 * msg.length * FUEL_PER_TEXT_BYTE);
      actor.log('debug', msg, { values: nums });
      return VOID;
    }, true)),
    seed: Func.host({ params: [], results: [F64] }, guard('env.seed', () => {
      const f = new Float64Array([actor.rng.float() * 2 ** 53]);
      return [{ type: 'f64', bits: new BigUint64Array(f.buffer)[0]! }];
    }, true)),
  };

  return { hive: hiveModule, env };
}
