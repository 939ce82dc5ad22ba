/**
 * `wasmhive demo` (`npm run demo`): the actor runtime in a minute, on the
 * guests of examples/ and test/guests (AssemblyScript, built and committed):
 * the WasmBox counter, ping-pong between two wasm actors, a ring of 1,000
 * actors spawned by a guest, a crash handled by a supervisor while spinning
 * actors run, and an actor moved mid-conversation to a second hive as bytes.
 * `wasmhive demo engine` runs the tour of the engine instead.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Hive } from '../actors/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const guest = (name: string): string => join(root, 'test', 'guests', `${name}.wasm`);

/** Runs the demo; returns the exit code. */
export async function main(argv: string[] = []): Promise<number> {
  if (argv[0] === 'engine') return (await import('./engine.js')).main(argv.slice(1));
  const say = (s = ''): void => void process.stdout.write(s + '\n');
  let ok = true;
  const expect = (label: string, got: unknown, want: unknown): void => {
    const same = JSON.stringify(got) === JSON.stringify(want);
    ok &&= same;
    say(`  ${label.padEnd(34)} ${JSON.stringify(got)}${same ? '' : `   <-- expected ${JSON.stringify(want)}`}`);
  };

  // Logs are JSON lines from pino, with the actor's id and name on each.
  const hive = new Hive({ logger: pino({ level: 'info' }, pino.destination({ dest: 1, sync: true })) });
  for (const g of ['ping', 'pong', 'ring', 'spinner', 'probe']) hive.define(g, guest(g));
  const crashes: string[] = [];
  hive.on('crashed', (e) => crashes.push(`${e.name ?? e.id}: ${e.reason}`));

  say('wasmhive actors demo\n');
  say('1. The WasmBox counter (examples/counter: a dozen lines of AssemblyScript):');
  const counter = hive.spawn<string, string>(join(root, 'examples', 'counter', 'counter.wasm'), { name: 'counter' });
  expect("call('up'), call('up'), call('down')", [await counter.call('up'), await counter.call('up'), await counter.call('down')], ['value=1', 'value=2', 'value=1']);

  say('\n2. Ping-pong between two wasm actors (blocking receive, no callbacks):');
  const inbox = hive.inbox<number>();
  const pong = hive.spawn('pong');
  const n = 20_000;
  let t = performance.now();
  hive.spawn('ping', { init: { peer: pong, n, report: inbox.ref } });
  expect('round trips reported by ping', await inbox.next(), n);
  say(`  ${((2 * n) / ((performance.now() - t) / 1000)).toLocaleString('en', { maximumFractionDigits: 0 })} messages/s`);

  say('\n3. A ring of 1,000 actors, spawned by the first one, passing a token 10 times round:');
  t = performance.now();
  hive.spawn('ring', { init: { n: 1000, rounds: 10, report: inbox.ref } });
  expect('token after 10,000 hops', await inbox.next(), 10_000);
  say(`  ${(performance.now() - t).toFixed(0)} ms, spawning included`);

  say('\n4. A crash is contained and restarted by a supervisor, while 10 actors spin forever:');
  const spinners = Array.from({ length: 10 }, () => hive.spawn('spinner'));
  const sup = hive.supervise({ strategy: 'one-for-one', children: [{ id: 'worker', module: 'probe', name: 'worker' }] });
  const worker = hive.whereis('worker')!;
  await worker.call(['log', 30, 'hello from a guest: about to divide by zero']);
  await worker.call(['trap', 'div0']).catch(() => {});
  await worker.exited;
  const restarted = hive.whereis('worker');
  expect('crashes seen', crashes, ['worker: trap: integer divide by zero']);
  expect('worker restarted with a new id', restarted !== undefined && restarted.id !== worker.id, true);
  t = performance.now();
  expect('a call to it, spinners running', await restarted!.call(['inc']), 1);
  say(`  answered in ${(performance.now() - t).toFixed(1)} ms`);
  await sup.stop();
  void spinners; // still spinning: hive.close() stops them at the end

  say('\n5. An actor is a value: the counter, with a message still in its mailbox, moves to a second hive:');
  counter.send('up');
  counter.send('up');
  const bytes = hive.snapshot(counter);
  void counter.stop();
  const other = new Hive({ logger: pino({ level: 'silent' }) });
  const moved = other.restore<string, string>(bytes, { module: join(root, 'examples', 'counter', 'counter.wasm') });
  say(`  snapshot: ${bytes.length.toLocaleString('en')} bytes (VM, mailbox, name, links, timers)`);
  expect("call('up') in the second hive", await moved.call('up'), 'value=4');
  hive.close();
  other.close();

  say(ok ? '\nAll as expected. `wasmhive demo engine` tours the engine itself.' : '\nSomething differed!');
  return ok ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
