// One life of a crash test (crash.test.ts): opens the store, recovers the
// hive's durable counters, and sends them "up" until it is killed. Every
// line it writes (synchronously, so that a SIGKILL loses none written) says
// what happened: "s <key>" before a send, "a <key>" once it was
// acknowledged (sendWait resolved), "r <json>" after recovery.
// Runs the built package (dist/), as users do.
//   node crash-child.mjs <store: file|nats> <dir|url> <bucket> <json options>
import { writeSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';

const { Hive } = await import('../../dist/actors/index.js');
const stores = await import('../../dist/store/index.js');
const [kind, where, bucket, json] = process.argv.slice(2);
const o = JSON.parse(json);
const line = (s) => writeSync(1, s + '\n');

const store = kind === 'file' ? await stores.FileStore.open(where) : await stores.NatsStore.connect({ servers: where, bucket });
const hive = new Hive({ logger: pino({ level: 'silent' }), durable: { store, checkpointEvery: o.checkpointEvery, passivateAfterMs: o.passivateAfterMs } });
hive.define('counter', readFileSync(new URL('../guests/counter.wasm', import.meta.url)));
line(`r ${JSON.stringify(await hive.recover())}`);
const refs = [];
for (let k = 0; k < o.keys; k++) refs.push(await hive.durable(`counter-${k}`, 'counter'));
line('ready');
// A deterministic sequence of keys from the run's seed.
let x = o.seed >>> 0 || 1;
const next = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0));
async function sender() {
  for (;;) {
    const k = next() % o.keys;
    line(`s ${k}`);
    await refs[k].sendWait('up', { timeout: 60_000 });
    line(`a ${k}`);
  }
}
await Promise.all(Array.from({ length: o.concurrency }, sender));
