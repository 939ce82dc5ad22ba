/**
 * Hives with worker threads (`workers`): placement, moves between workers,
 * and what a worker's death does. The rest of the API is the conformance
 * suite's (vitest projects workers-1 and workers-2).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pino } from 'pino';
import { Hive, WorkerPool, HiveStateError, ActorExitedError, Pid, Status, decode } from './index.js';
import { Module } from '../vm/index.js';
import { isMainThread, Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { poolAgents } from './threads.js';
import { poolOf } from './hive.js';
import { wat } from '../../test/helpers/wat.js';
import { guest, cmd, settle } from '../../test/helpers/hive.js';
import { treeOf } from '../../test/helpers/inspect.js';
import { MESSAGE_OVERHEAD } from './limits.js';

const threads = new WorkerPool({ threads: 2 });
beforeAll(() => threads.ready());
afterAll(() => threads.close());

function pooled(): Hive {
  const hive = new Hive({ workers: threads, logger: pino({ level: 'silent' }), rebalance: false });
  for (const g of ['probe', 'counter', 'ping', 'pong', 'sink']) hive.define(g, guest(g));
  return hive;
}

describe('placement', () => {
  it('puts each new actor on the worker with the fewest actors, and a guest\'s children beside it', async () => {
    const hive = pooled();
    const refs = Array.from({ length: 6 }, () => hive.spawn('probe'));
    const per = [0, 0];
    for (const r of refs) per[hive.workerOf(r)!]!++;
    expect(per).toEqual([3, 3]);
    const child = (await cmd(refs[0]!, 'spawn', 'counter')) as number;
    expect(child).toBeGreaterThan(0);
    await settle(hive);
    expect(hive.workerOf(child)).toBe(hive.workerOf(refs[0]!));
    hive.close();
  });

  it('asks a placement function given to the hive, with the actors on each worker', () => {
    const asked: unknown[] = [];
    const hive = new Hive({ workers: threads, logger: pino({ level: 'silent' }), rebalance: false, placement: (r) => (asked.push(r), r.name === 'pinned' ? 1 : 0) });
    hive.define('probe', guest('probe'));
    const a = hive.spawn('probe');
    const b = hive.spawn('probe', { name: 'pinned' });
    expect([hive.workerOf(a), hive.workerOf(b)]).toEqual([0, 1]);
    expect(asked).toEqual([
      { module: 'probe', name: null, loads: [0, 0] },
      { module: 'probe', name: 'pinned', loads: [1, 0] },
    ]);
    const bad = new Hive({ workers: threads, logger: pino({ level: 'silent' }), rebalance: false, placement: () => 7 });
    expect(() => bad.spawn(guest('probe'))).toThrow(RangeError);
    bad.close();
    hive.close();
  });

  it('runs on the main thread what needs it: an actor importing a value, not a function', () => {
    const hive = pooled();
    const a = hive.spawn('probe', { imports: { env: { g: 42 } } });
    expect(hive.workerOf(a)).toBeNull();
    hive.close();
  });

  it('runs an actor with host functions on a worker: they run on the main thread, and the guest waits for them', async () => {
    const hive = pooled();
    const seen: { thread: boolean; args: unknown[] }[] = [];
    let report!: (v: number) => void;
    const reported = new Promise<number>((r) => (report = r));
    const guestBytes = wat(`(module
      (import "host" "add" (func $add (param i32 i32) (result i32)))
      (import "host" "mul" (func $mul (param i32 i32) (result i32)))
      (import "host" "report" (func $report (param i32)))
      (memory (export "memory") 1)
      (func (export "main") (call $report (call $mul (call $add (i32.const 2) (i32.const 3)) (i32.const 7)))))`);
    const a = hive.spawn(guestBytes, {
      imports: {
        host: {
          add: (x: number, y: number) => (seen.push({ thread: isMainThread, args: [x, y] }), x + y),
          mul: async (x: number, y: number) => (await new Promise((r) => setTimeout(r, 5)), x * y),
          report: (v: number) => report(v),
        },
      },
    });
    expect(hive.workerOf(a)).not.toBeNull();
    expect(await reported).toBe(35);
    expect(await a.exited).toBe('normal');
    expect(seen).toEqual([{ thread: true, args: [2, 3] }]);
    hive.close();
  });

  it('regression: a module defined with host functions could not be spawned by a guest on a worker; now its functions run on the main thread for it', async () => {
    const hive = pooled();
    let report!: (v: number) => void;
    const reported = new Promise<number>((r) => (report = r));
    hive.define('hosted', wat(`(module
      (import "host" "add" (func $add (param i32 i32) (result i32)))
      (import "host" "report" (func $report (param i32)))
      (memory (export "memory") 1)
      (func (export "main") (call $report (call $add (i32.const 40) (i32.const 2)))))`), {
      imports: { host: { add: (x: number, y: number) => (isMainThread ? x + y : -1), report: (v: number) => report(v) } },
    });
    const parent = hive.spawn('probe', { worker: 1 });
    const child = (await cmd(parent, 'spawn', 'hosted', null, false)) as number;
    expect(child).toBeGreaterThan(0);
    expect(hive.workerOf(child)).toBe(1); // beside its spawner
    expect(await reported).toBe(42);
    expect(await hive.ref(child).exited).toBe('normal');
    hive.close();
  });
});

describe('modules on workers', () => {
  it('regression: a worker compiled a module again without its compile options (features, tier); now it compiles it as the main thread did', async () => {
    const hive = pooled();
    let report!: (v: number) => void;
    const reported = new Promise<number>((r) => (report = r));
    // Tail calls are a feature a module must be compiled with: without it, this module does not validate. (Its tier
    // crosses too, but no test sees it: every tier gives the same results.)
    const bytes = wat(`(module
      (import "host" "report" (func $report (param i32)))
      (memory (export "memory") 1)
      (func $count (param i32 i32) (result i32)
        (if (result i32) (i32.eqz (local.get 0)) (then (local.get 1))
          (else (return_call $count (i32.sub (local.get 0) (i32.const 1)) (i32.add (local.get 1) (i32.const 2))))))
      (func (export "main") (call $report (call $count (i32.const 100000) (i32.const 0)))))`);
    const a = hive.spawn(new Module(bytes, { features: { tailCall: true }, tier: 'compiled' }), { worker: 1, imports: { host: { report: (v: number) => report(v) } } });
    expect(hive.workerOf(a)).toBe(1);
    expect(await reported).toBe(200_000);
    expect(await a.exited).toBe('normal');
    hive.close();
  });
});

describe('tiers', () => {
  it('compiles the modules a hive is given as bytes or a path in its tier, keeps a Module\'s own, and refuses an unknown tier', async () => {
    const hive = new Hive({ workers: threads, logger: pino({ level: 'silent' }), rebalance: false, tier: 'auto' });
    hive.define('counter', fileURLToPath(new URL('../../test/guests/counter.wasm', import.meta.url)));
    hive.define('own', guest('counter'));
    expect(hive.modules.get('counter')!.module.tier).toBe('auto');
    expect(hive.modules.get('own')!.module.tier).toBe('interpreter');
    // A counter on each worker counts in the hive's tier as in the interpreter.
    const refs = [hive.spawn('counter', { worker: 0 }), hive.spawn('counter', { worker: 1 })];
    for (const r of refs) {
      for (let i = 0; i < 299; i++) r.send('up');
      expect(await r.call('up')).toBe('value=300');
    }
    hive.close();
    expect(() => new Hive({ tier: 'fast' as never })).toThrow(TypeError);
  });
});

describe('moving an actor between workers', () => {
  it('carries a counter to the other worker with its state; calls go on there', async () => {
    const hive = pooled();
    const c = hive.spawn('counter');
    expect(await c.call('up')).toBe('value=1');
    const from = hive.workerOf(c)!;
    await hive.migrate(c, 1 - from);
    expect(hive.workerOf(c)).toBe(1 - from);
    expect(await c.call('up')).toBe('value=2');
    await hive.migrate(c, from);
    expect(await c.call('up')).toBe('value=3');
    hive.close();
  });

  it('regression: workers kept an entry per actor that ever moved or was restored under its id; now they drop it when the actor exits', async () => {
    const hive = pooled();
    const movers = Array.from({ length: 10 }, (_, i) => hive.spawn('counter', { worker: i % 2 }));
    for (const c of movers) await hive.migrate(c, 1 - hive.workerOf(c)!);
    const during = poolOf(hive)!.inspectWorkers({ q: 'moves' });
    expect(during.reduce((n, m) => n + m.away, 0)).toBe(10 * 2); // each worker knows each one is away
    for (const c of movers) {
      c.kill();
      await c.exited;
    }
    await settle(hive);
    expect(poolOf(hive)!.inspectWorkers({ q: 'moves' })).toEqual([{ away: 0, fences: 0 }, { away: 0, fences: 0 }]);
    // Nor for actors restored under their ids (of a worker's block), on their home worker or the other one.
    for (let i = 0; i < 10; i++) {
      const c = hive.spawn('counter', { worker: i % 2 });
      expect(await c.call('up')).toBe('value=1');
      const bytes = c.snapshot();
      c.kill();
      await c.exited;
      const again = hive.restore<string, string>(bytes);
      expect(again.id).toBe(c.id);
      expect(await again.call('up')).toBe('value=2');
      if (i === 0) await hive.migrate(again, 1 - hive.workerOf(again)!); // and it moves (no fences wanted)
      again.kill();
      await again.exited;
    }
    await settle(hive);
    expect(poolOf(hive)!.inspectWorkers({ q: 'moves' })).toEqual([{ away: 0, fences: 0 }, { away: 0, fences: 0 }]);
    hive.close();
  });

  it('regression: moving a receiver took the messages waiting in its mailbox out of their senders\' maxTreeQueuedBytes; now they count where it lands', async () => {
    const each = 1 + MESSAGE_OVERHEAD; // (a probe's flood sends small ints: 1 byte each)
    const hive = new Hive({ workers: threads, logger: pino({ level: 'silent' }), rebalance: false, hiveLimits: { maxTreeQueuedBytes: 10 * each } });
    hive.define('probe', guest('probe'));
    const sender = hive.spawn('probe', { worker: 0 });
    const receiver = hive.spawn('probe', { worker: 1 });
    await settle(hive);
    void cmd(receiver, 'sleep', 1_000_000).catch(() => {});
    await settle(hive);
    const flood = async (from: typeof sender): Promise<unknown> => cmd(from, 'flood', receiver.id, 11, 0);
    expect(await flood(sender)).toEqual({ ok: 10, full: 0, notfound: 0, other: 1 });
    expect(treeOf(hive, sender).queuedBytes).toBe(10 * each);
    const more = hive.spawn('probe', { tree: sender }); // the same tree
    for (const to of [0, 1]) {
      await hive.migrate(receiver, to); // beside the sender, then away again
      await settle(hive);
      expect(treeOf(hive, sender).queuedBytes).toBe(10 * each);
      expect(await flood(more)).toEqual({ ok: 0, full: 0, notfound: 0, other: 11 });
    }
    receiver.kill();
    await receiver.exited;
    await settle(hive);
    expect(treeOf(hive, sender).queuedBytes).toBe(0);
    hive.close();
  });

  it('loses, duplicates and reorders none of the messages sent to it while it moves, and leaves no bookkeeping behind', async () => {
    const hive = pooled();
    const c = hive.spawn('counter');
    // Guests on both workers send it calls too (their requests and acks cross the rings or, once it moved, the main thread).
    const guests = [hive.spawn('probe', { worker: 0 }), hive.spawn('probe', { worker: 1 })];
    const answers: Promise<unknown>[] = [];
    const fromGuests: Promise<unknown>[] = [];
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 25; i++) answers.push(c.call('up'));
      for (const g of guests) fromGuests.push(cmd(g, 'call', c.id, 'down', -1));
      await hive.migrate(c, round % 2);
    }
    const got = await Promise.all(answers);
    // Each of the host's calls sees one more up than the one before, less the guests' downs between them (none lost or taken twice).
    const values = got.map((v) => Number(String(v).slice('value='.length)));
    let downs = values[0]! === 1 ? 0 : 1 - values[0]!;
    for (let i = 1; i < values.length; i++) {
      const between = values[i - 1]! + 1 - values[i]!;
      expect(between).toBeGreaterThanOrEqual(0);
      downs += between;
    }
    expect(downs).toBeLessThanOrEqual(40);
    expect((await Promise.all(fromGuests)).every((r) => Array.isArray(r) && r[0] === 0)).toBe(true);
    expect(await c.call('up')).toBe(`value=${500 - 40 + 1}`);
    await settle(hive);
    // (Regression: a request that passed this thread and was answered within the worker the actor moved to left its entries here.)
    expect(poolOf(hive)!.owedEntries).toBe(0);
    hive.close();
  });

  it('refuses to move an actor of the main thread, or in a hive without workers', async () => {
    const hive = pooled();
    const a = hive.spawn('probe', { imports: { env: { g: 42 } } });
    await expect(hive.migrate(a, 0)).rejects.toBeInstanceOf(HiveStateError);
    hive.close();
    const inline = new Hive({ logger: pino({ level: 'silent' }) });
    await expect(inline.migrate(1, 0)).rejects.toBeInstanceOf(HiveStateError);
    inline.close();
  });
});

describe('the rebalancer', () => {
  /** `n` spinners started on worker 0 end half on each worker, and stay so. */
  const balances = async (n: number): Promise<void> => {
    const hive = new Hive({ workers: threads, logger: pino({ level: 'silent' }), rebalance: { intervalMs: 100 } });
    hive.define('spinner', guest('spinner'));
    const spinners = Array.from({ length: n }, () => hive.spawn('spinner', { worker: 0 }));
    const per = (): number[] => [0, 1].map((w) => spinners.filter((s) => hive.workerOf(s) === w).length);
    expect(per()).toEqual([n, 0]);
    const deadline = performance.now() + 15_000;
    while (per()[1]! < n / 2 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(per()).toEqual([n / 2, n / 2]);
    // Balanced, it stays so (each worker now runs half the spinners).
    await new Promise((r) => setTimeout(r, 500));
    expect(per()).toEqual([n / 2, n / 2]);
    hive.close();
  };

  it('moves busy actors off a worker that stays busier than the other, until both are busy', () => balances(4));

  it('regression: on a machine loaded by other threads it saw no CPU-hungry actor (it asked each for a tenth of a core); now it counts the slices they were preempted in', async () => {
    // Four threads spinning beside the pool's two on this machine's cores, and eight spinners sharing worker 0:
    // each gets a small share of a core.
    const burners = Array.from({ length: 4 }, () => new Worker('for (;;) {}', { eval: true }));
    try {
      await balances(8);
    } finally {
      await Promise.all(burners.map((b) => b.terminate()));
    }
  }, 30_000);
});

describe('a worker that dies', () => {
  // Runs of the fault-injection scenario: WASMHIVE_FAULT_RUNS=100 for the hundred in a row.
  const runs = Number(process.env['WASMHIVE_FAULT_RUNS'] ?? 3);

  it('regression: a tree kept counting the bytes it had queued on a worker that died (maxTreeQueuedBytes); now they are forgiven', async () => {
    const each = 1 + MESSAGE_OVERHEAD;
    const hive = new Hive({ workers: threads, logger: pino({ level: 'silent' }), rebalance: false, hiveLimits: { maxTreeQueuedBytes: 64 * each } });
    hive.define('probe', guest('probe'));
    const attacker = hive.spawn('probe', { worker: 0 });
    const victim = hive.spawn('probe', { worker: 1 });
    await settle(hive);
    void cmd(victim, 'sleep', 1_000_000).catch(() => {});
    await settle(hive);
    // Its messages wait in the victim's mailbox on the other worker: counted against its tree, up to the bound.
    expect(await cmd(attacker, 'flood', victim.id, 100, 0)).toEqual({ ok: 64, full: 0, notfound: 0, other: 36 });
    expect(treeOf(hive, attacker).queuedBytes).toBe(64 * each);
    await poolAgents(threads).worker(1)!.terminate();
    expect(await victim.exited).toBe('worker-crashed');
    await settle(hive);
    expect(treeOf(hive, attacker).queuedBytes).toBe(0);
    const other = hive.spawn('probe', { worker: 0 });
    void cmd(other, 'sleep', 1_000_000).catch(() => {});
    await settle(hive);
    expect(await cmd(attacker, 'flood', other.id, 10, 0)).toEqual({ ok: 10, full: 0, notfound: 0, other: 0 });
    hive.close();
  });

  it(`keeps the documented guarantees when a worker is killed while actors exchange messages (${runs} runs)`, async () => {
    for (let run = 0; run < runs; run++) await faultRun(run);
  }, 60_000 + runs * 5_000);
});

/**
 * One fault-injection run: actors on both workers link, monitor, call and
 * flood each other and the host calls them; then the thread of worker
 * `victim` is terminated. Checked: the dead worker's actors (and only they)
 * exit with `worker-crashed`; links and monitors on the other worker see
 * that; the host's call and a guest's call to them fail, never hang; a
 * supervisor restarts its child; messages between the survivors all arrive;
 * the pool replaces the thread and new actors run on it.
 */
async function faultRun(run: number): Promise<void> {
  const hive = new Hive({ workers: threads, signals: 'open', logger: pino({ level: 'silent' }) });
  hive.define('probe', guest('probe'));
  const victim = run % 2;
  const survivorWorker = 1 - victim;
  // Half the actors are placed on their worker (the other worker reaches them over the ring between the two), half moved
  // there (reached through the main thread): a crash must keep the guarantees both ways. Which ones changes from run to run.
  let placed = run;
  const on = async (worker: number) => {
    if (placed++ % 2 === 0) return hive.spawn('probe', { worker });
    const r = hive.spawn('probe', { worker: 1 - worker });
    await hive.migrate(r, worker);
    return r;
  };
  const [v1, v2, v3, v4, v5] = [await on(victim), await on(victim), await on(victim), await on(victim), await on(victim)];
  const [s1, s2, s3, s4, s5] = [await on(survivorWorker), await on(survivorWorker), await on(survivorWorker), await on(survivorWorker), await on(victim)];
  await hive.migrate(s5, survivorWorker);
  const sup = hive.supervise({ strategy: 'one-for-one', children: [{ id: 'c', module: 'probe' }] });
  const child = sup.child('c')!;
  await hive.migrate(child, victim);
  const exits = new Map<number, string>();
  hive.on('exited', (e) => exits.set(e.id, e.reason));
  const restarted = new Promise<string>((resolve) => hive.once('restarted', (e) => resolve(e.reason)));

  // A link and a monitor across the threads, from survivors that trap exits and report to an inbox.
  const reports = hive.inbox<{ kind: string; from: Pid; reason: string }>();
  await cmd(s1, 'report', reports.ref);
  await cmd(s2, 'report', reports.ref);
  expect(await cmd(s1, 'trap_exit', true)).toBe(0);
  expect(await cmd(s1, 'link', v1.id)).toBe(Status.OK);
  expect(await cmd(s2, 'monitor', v2.id)).toBeGreaterThan(0);
  // Calls that the victims will never answer: the host's, and a survivor's.
  const hostCall = cmd(v3, 'sleep', 1_000_000);
  const guestCall = cmd(s3, 'call', v4.id, ['sleep', 1_000_000]);
  // Messages in flight both ways between the workers, and between survivors.
  const floodToVictim = cmd(s4, 'flood', v5.id, 5_000);
  const floodBetweenSurvivors = cmd(s4 === s5 ? s1 : s5, 'flood', s4.id, 2_000);
  await new Promise((r) => setTimeout(r, 5 + (run % 7)));

  const thread = poolAgents(threads).worker(victim);
  expect(thread).toBeDefined();
  await thread!.terminate();

  // Each of the dead worker's actors exits with worker-crashed; the survivors do not exit.
  const victims = [v1, v2, v3, v4, v5, child];
  expect(await Promise.all(victims.map((v) => v.exited))).toEqual(victims.map(() => 'worker-crashed'));
  for (const s of [s1, s2, s3, s4, s5]) expect(exits.has(s.id)).toBe(false);
  // The host's call fails with a typed error; the guest's call gets NOT_FOUND.
  await expect(hostCall).rejects.toMatchObject({ name: 'ActorExitedError', reason: 'worker-crashed' });
  expect(((await guestCall) as unknown[])[0]).toBe(Status.NOT_FOUND);
  // The link brings an exit signal, the monitor a DOWN, both with the reason.
  const got = [await reports.next(), await reports.next()].map((r) => ({ kind: r.kind, from: r.from.id, reason: r.reason })).sort((a, b) => a.kind.localeCompare(b.kind));
  expect(got).toEqual([
    { kind: 'down', from: v2.id, reason: 'worker-crashed' },
    { kind: 'exit', from: v1.id, reason: 'worker-crashed' },
  ]);
  // The flood to the dead actor ends (its last sends answered NOT_FOUND); between survivors nothing is lost.
  const toVictim = (await floodToVictim) as { ok: number; notfound: number };
  expect(toVictim.ok + toVictim.notfound).toBe(5_000);
  expect(await floodBetweenSurvivors).toEqual({ ok: 2_000, full: 0, notfound: 0, other: 0 });
  // The supervisor restarts its child (here or on the new thread), which answers.
  expect(await restarted).toBe('worker-crashed');
  expect(await cmd(sup.child('c')!, 'inc')).toBe(1);
  // New actors run meanwhile (on the live worker); the pool makes a new thread, and actors are placed on it once it runs.
  const fresh = Array.from({ length: 4 }, () => hive.spawn('probe'));
  expect(await Promise.all(fresh.map((f) => cmd(f, 'inc')))).toEqual([1, 1, 1, 1]);
  const deadline = performance.now() + 20_000;
  for (;;) {
    const f = hive.spawn('probe', { worker: victim });
    if (hive.workerOf(f) === victim) {
      expect(await cmd(f, 'inc')).toBe(1);
      break;
    }
    f.kill();
    expect(performance.now()).toBeLessThan(deadline);
    await new Promise((r) => setTimeout(r, 10));
  }
  hive.close();
}

describe('the host serving guests on workers', () => {
  it('answers a guest\'s call to a host inbox through the reply address the guest sent from', async () => {
    const hive = pooled();
    const box = hive.inbox<string>();
    const p = hive.spawn('probe');
    expect(hive.workerOf(p)).not.toBeNull();
    const serve = (async (): Promise<void> => {
      for await (const m of box) hive.ref(m.from).send(`pong ${m.value}`);
    })();
    for (let i = 0; i < 50; i++) {
      const [status, answer] = (await cmd(p, 'call', box.id, i, -1)) as [number, Uint8Array];
      expect(status).toBeGreaterThanOrEqual(0);
      expect(decode(answer)).toBe(`pong ${i}`);
    }
    hive.close();
    await serve;
  });
});

describe('a worker flooding the main thread', () => {
  // What broke (adversarial review of the pool): two guests hitting a limit in a loop, one per worker, sent ~600,000
  // limit events a second to the main thread, whose reading loop never yielded: its timers stopped.
  it('regression: guests hitting a limit in a loop froze the main thread\'s timers; now each worker sends at most 10,000 limit events a second and timers run', async () => {
    const hive = new Hive({ workers: threads, logger: pino({ level: 'silent' }), rebalance: false });
    const looper = wat(`(module
      (import "hive" "self" (func $self (result i32)))
      (import "hive" "monitor" (func $monitor (param i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "main") (local $me i32)
        (local.set $me (call $self))
        (loop $l (drop (call $monitor (local.get $me))) (br $l))))`);
    let events = 0;
    hive.on('limit', () => events++);
    let late = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      late = Math.max(late, now - last - 50);
      last = now;
    }, 50);
    try {
      const guests = [0, 1].map((worker) => hive.spawn(looper, { worker, limits: { maxMonitors: 1 } }));
      const t0 = performance.now();
      // Without the cap the two workers sent 542,739 in these 3 s (measured), over 5 times the bound below.
      await new Promise((r) => setTimeout(r, 3_000));
      const seconds = (performance.now() - t0) / 1000;
      // Per worker at most 10,000 in each second of the clock: over this window at most ceil(seconds) + 1 such seconds.
      expect(events).toBeGreaterThan(0);
      expect(events).toBeLessThanOrEqual(2 * 10_000 * (Math.ceil(seconds) + 1));
      // The timer kept running (generous: the machine is shared; frozen, it is late by the whole window).
      expect(late).toBeLessThan(1_000);
      for (const g of guests) g.kill();
    } finally {
      clearInterval(timer);
      hive.close();
    }
  });
});

describe('the rings between workers', () => {
  it('carries envelopes between two workers\' actors without the main thread, and keeps them in order per sender', async () => {
    const hive = pooled();
    const pool = poolOf(hive)!;
    const inbox = hive.inbox<number>();
    const pong = hive.spawn('pong', { worker: 1 });
    await settle(hive);
    const before = pool.recordsFromWorkers;
    const ping = hive.spawn('ping', { worker: 0, init: { peer: pong, n: 2_000, report: inbox.ref } });
    expect([hive.workerOf(ping), hive.workerOf(pong)]).toEqual([0, 1]);
    expect(await inbox.next()).toBe(2_000);
    await settle(hive);
    // 2,000 round trips are 8,000 envelopes (two messages and two acks each) between the workers; the main thread
    // took only the report, the answers to its requests, births and exits (through it they would be 8,000 more).
    expect(pool.recordsFromWorkers - before).toBeLessThan(100);
    expect(pool.owedEntries).toBe(0);
    hive.close();
  });
});

describe('restoring onto workers', () => {
  it('restores an actor onto a worker (into the worker of the tree it is put in), where it carries on', async () => {
    const hive = pooled();
    const c = hive.spawn('counter', { worker: 0 });
    expect(await c.call('up')).toBe('value=1');
    const bytes = c.snapshot();
    const copy = hive.restore<string, string>(bytes, { id: 'new', name: null });
    expect(hive.workerOf(copy)).not.toBeNull();
    expect(await copy.call('up')).toBe('value=2');
    const root = hive.spawn('probe', { worker: 1 });
    const inTree = hive.restore<string, string>(bytes, { id: 'new', name: null, tree: root });
    expect(hive.workerOf(inTree)).toBe(1);
    expect(await inTree.call('up')).toBe('value=2');
    // What needs the main thread stays there: a restore into a tree of the main thread's.
    const here = hive.spawn('probe', { imports: { env: { g: 42 } } });
    expect(hive.workerOf(here)).toBeNull();
    expect(hive.workerOf(hive.restore(bytes, { id: 'new', name: null, tree: here }))).toBeNull();
    hive.close();
  });
});

describe('restoring groups onto workers', () => {
  it('restores a group onto one worker (the worker of its tree), where its actors carry on with their links', async () => {
    const hive = pooled();
    const a = hive.spawn('probe', { worker: 0 });
    const b = hive.spawn('counter', { tree: a });
    expect(await cmd(a, 'link', b.id)).toBe(0);
    expect(await b.call('up')).toBe('value=1');
    const bytes = hive.snapshotGroup([a, b]);
    a.kill(); // the link takes b along
    await b.exited;
    const events: string[] = [];
    hive.on('spawned', (e) => events.push(`spawned ${e.id}`));
    hive.on('exited', (e) => events.push(`exited ${e.id}`));
    const [a2, b2] = hive.restoreGroup(bytes);
    expect([a2!.id, b2!.id]).toEqual([a.id, b.id]);
    expect(hive.workerOf(a2!)).not.toBeNull();
    expect(hive.workerOf(b2!)).toBe(hive.workerOf(a2!));
    expect(await b2!.call('up')).toBe('value=2');
    expect(b2!.info()!.links).toEqual([a.id]);
    expect(events).toEqual([`spawned ${a.id}`, `spawned ${b.id}`]);
    // Into a tree on worker 1.
    const root = hive.spawn('probe', { worker: 1 });
    a2!.kill();
    await b2!.exited;
    const [a3, b3] = hive.restoreGroup(bytes, { tree: root });
    expect([hive.workerOf(a3!), hive.workerOf(b3!)]).toEqual([1, 1]);
    expect(await b3!.call('up')).toBe('value=2');
    hive.close();
  });

  it('a group restore a worker refuses half-way leaves no record, no name, no event, and the placement counts as they were', async () => {
    const hive = pooled();
    hive.define('c2', guest('counter'));
    const a = hive.spawn('counter', { worker: 0, name: 'first' });
    const b = hive.spawn('probe', { worker: 0, name: 'second' });
    await settle(hive);
    expect(await cmd(b, 'grow', 3)).toBe(1);
    const bytes = hive.snapshotGroup([a, b]);
    hive.close();
    const two = new Hive({ workers: threads, logger: pino({ level: 'silent' }), rebalance: false, limits: { maxMemoryPages: 2 } });
    for (const g of ['probe', 'counter']) two.define(g, guest(g));
    const events: string[] = [];
    two.on('exited', (e) => events.push(`exited ${e.id}`));
    two.on('spawned', (e) => events.push(`spawned ${e.id}`));
    expect(() => two.restoreGroup(bytes)).toThrow(/pages/);
    expect(two.whereis('first')).toBeUndefined();
    expect(two.actorIds()).toEqual([]);
    await settle(two);
    expect(events).toEqual([]);
    // The workers' loads are as before: new actors still go one to each.
    const x = two.spawn('counter');
    const y = two.spawn('counter');
    expect([two.workerOf(x), two.workerOf(y)].sort()).toEqual([0, 1]);
    two.close();
  });
});

describe('a group snapshot across workers', () => {
  /** The group [feeder, counter] restored in an inline hive, run until idle: the counter's answer to one more "up". */
  const nextCount = async (bytes: Uint8Array): Promise<unknown> => {
    const two = new Hive({ logger: pino({ level: 'silent' }) });
    for (const g of ['probe', 'counter']) two.define(g, guest(g));
    const [, c] = two.restoreGroup(bytes);
    await settle(two);
    const answer = await c!.call('up');
    two.close();
    return answer;
  };

  it('is taken at one point: restored elsewhere, a counter fed by an actor on the other worker ends with every message counted once', async () => {
    const runs = 5;
    for (let run = 0; run < runs; run++) {
      const hive = pooled();
      const feeder = hive.spawn('probe', { worker: 0 });
      const counter = hive.spawn('counter', { worker: 1 });
      await settle(hive);
      expect([hive.workerOf(feeder), hive.workerOf(counter)]).toEqual([0, 1]);
      // 400 commands to the feeder, each an "up" sent on to the counter over the ring between the workers;
      // the snapshot comes while they run: some done, some in the feeder's mailbox, some between the two.
      const n = 400;
      for (let i = 0; i < n; i++) void cmd(feeder, 'send', counter.id, 'up', -1).catch(() => {});
      for (let i = 0; i < 2 + run; i++) await new Promise((r) => setImmediate(r));
      const bytes = hive.snapshotGroup([feeder, counter]);
      hive.close();
      // What was in flight at the cut is in the snapshot exactly once (lost: fewer; taken twice, or a slice
      // between the two snapshots: more).
      expect(await nextCount(bytes)).toBe(`value=${n + 1}`);
    }
  });

  it('waits for what overflows the ring between the workers: large messages in flight at the cut are delivered once', async () => {
    const hive = pooled();
    const feeder = hive.spawn('probe', { worker: 0 });
    const counter = hive.spawn('counter', { worker: 1, limits: { mailbox: 10_000 } });
    // A spinner beside the counter: its worker reads its rings only between slices.
    const spinner = hive.spawn('probe', { worker: 1 });
    await settle(hive);
    void cmd(spinner, 'spin', -1).catch(() => {});
    // Each command sends 48 KiB the counter ignores, then an "up": 120 of them are 5.6 MiB, more than the
    // ring's 1 MiB; at the cut, what is between the workers (in the ring or the feeder's overflow queue)
    // must be delivered before the counter's snapshot, or its "up"s are lost.
    const n = 120;
    const big = 'x'.repeat(48 * 1024);
    for (let i = 0; i < n; i++) {
      void cmd(feeder, 'send', counter.id, big, -1).catch(() => {});
      void cmd(feeder, 'send', counter.id, 'up', -1).catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 30));
    const bytes = hive.snapshotGroup([feeder, counter]);
    hive.close();
    expect(await nextCount(bytes)).toBe(`value=${n + 1}`);
  });

  it('takes the main thread\'s actors of the group with the workers\'', async () => {
    const hive = pooled();
    const onWorker = hive.spawn('counter', { worker: 1 });
    const onMain = hive.spawn('probe', { imports: { env: { g: 42 } } }); // a value import: it runs on the main thread
    expect([hive.workerOf(onWorker), hive.workerOf(onMain)]).toEqual([1, null]);
    expect(await onWorker.call('up')).toBe('value=1');
    expect(await cmd(onMain, 'inc')).toBe(1);
    const bytes = hive.snapshotGroup([onMain, onWorker]);
    hive.close();
    const two = new Hive({ logger: pino({ level: 'silent' }) });
    for (const g of ['probe', 'counter']) two.define(g, guest(g));
    const [p, c] = two.restoreGroup(bytes);
    expect(await c!.call('up')).toBe('value=2');
    expect(await cmd(p!, 'inc')).toBe(2);
    two.close();
  });

  it('a snapshot of ping-pong pairs spread over the workers, taken at a random point and restored, finishes as an uninterrupted run (property)', async () => {
    // The pong's fuel after n exchanges, uninterrupted (inline): the same wherever and whenever it was moved.
    const reference = new Map<number, number>();
    const pongFuel = async (n: number): Promise<number> => {
      if (!reference.has(n)) {
        const h = new Hive({ logger: pino({ level: 'silent' }) });
        for (const g of ['ping', 'pong']) h.define(g, guest(g));
        const box = h.inbox<number>();
        const pong = h.spawn('pong');
        h.spawn('ping', { init: { peer: pong, n, report: box.ref } });
        expect(await box.next()).toBe(n);
        await settle(h);
        reference.set(n, pong.info()!.fuelUsed);
        h.close();
      }
      return reference.get(n)!;
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ ping: fc.integer({ min: 0, max: 1 }), pong: fc.integer({ min: 0, max: 1 }), n: fc.integer({ min: 1_500, max: 3_000 }) }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 1 }),
        async (pairs, cut, sinkWorker) => {
          // The pings report to a sink in the group, not to a host inbox: a ping may finish between the
          // last look at it and the cut (on its worker, before the main thread hears), and a report sent
          // before the cut to an actor outside the group is rightly not in the snapshot.
          const hive = pooled();
          const sink = hive.spawn('sink', { worker: sinkWorker });
          const pongs = pairs.map((p) => hive.spawn('pong', { worker: p.pong }));
          const pings = pairs.map((p, i) => hive.spawn('ping', { worker: p.ping, init: { peer: pongs[i]!, n: p.n, report: sink } }));
          let bytes: Uint8Array | undefined;
          try {
            for (let i = 0; i < cut; i++) await new Promise((r) => setImmediate(r));
            bytes = hive.snapshotGroup([...pings, ...pongs, sink]);
          } catch (e) {
            // A ping that ended before the cut (a loaded machine) is not the case under test: the run is
            // skipped, and counted so by fast-check, not passed. Any other refusal fails.
            if (!(e instanceof ActorExitedError && pings.some((p) => p.id === e.pid))) throw e;
          } finally {
            hive.close();
          }
          fc.pre(bytes !== undefined);
          const two = new Hive({ logger: pino({ level: 'silent' }) });
          for (const g of ['ping', 'pong', 'sink']) two.define(g, guest(g));
          try {
            const restored = two.restoreGroup(bytes);
            const kept = restored[restored.length - 1]!;
            // A report that does not come is a message lost at the cut (or one taken twice, a report too
            // many): wait for them all, then say where.
            let reports: number[] = [];
            for (const deadline = Date.now() + 20_000; reports.length < pairs.length && Date.now() < deadline; ) {
              await settle(two);
              reports = (await kept.call('take')) as number[];
            }
            await settle(two);
            reports = (await kept.call('take')) as number[];
            if (reports.length !== pairs.length) throw new Error(`reports ${JSON.stringify(reports)} after 20 s: pairs ${JSON.stringify(pairs)}, cut ${cut}, sink on ${sinkWorker}; restored ${JSON.stringify(restored.map((r) => [r.id, r.info()]))}`);
            expect(reports.sort((a, b) => a - b)).toEqual(pairs.map((p) => p.n).sort((a, b) => a - b));
            for (let i = 0; i < pairs.length; i++) expect(restored[pairs.length + i]!.info()!.fuelUsed).toBe(await pongFuel(pairs[i]!.n));
          } finally {
            two.close();
          }
        },
      ),
      { numRuns: 8, seed: 12, endOnFailure: true },
    );
  }, 120_000);

  it('thaws the workers it froze when a part is refused', async () => {
    const hive = pooled();
    const a = hive.spawn('counter', { worker: 0 });
    const b = hive.spawn('counter', { worker: 1 });
    await settle(hive);
    // A part refused on a worker (an id that is not an actor there) after both were frozen: both go on.
    expect(() => hive.snapshotGroup([a, b, hive.inbox().id])).toThrow();
    expect(await a.call('up')).toBe('value=1');
    expect(await b.call('up')).toBe('value=1');
    hive.close();
  });
});
