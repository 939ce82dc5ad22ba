// Measures the shared-memory ring (src/scheduler/ring.ts) against MessagePort postMessage between
// two threads, in one run. Usage, from the repository root: node bench/ring.mjs [records]
// Loads ring.ts through tsx (a devDependency), in both threads, so no build is needed.
// Prints one JSON object; figures are per second unless named otherwise.
import { isMainThread, parentPort, Worker, workerData, MessageChannel } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

const ring = await tsImport('../src/scheduler/ring.ts', import.meta.url);
const { createRing, RingReader, RingWriter } = ring;
const SIZE = 16;

async function worker(d) {
  const post = (m) => parentPort.postMessage(m);
  switch (d.mode) {
    case 'ring-consume': {
      const r = new RingReader(d.a, { spin: d.spin });
      let n = 0;
      while (n < d.count) {
        const got = d.batch > 1 ? r.readMany(d.batch) : r.read() === null ? [] : [null];
        n += got.length;
        if (got.length === 0) await r.waitReadable();
      }
      post({ n });
      return;
    }
    case 'ring-produce': {
      const w = new RingWriter(d.a, { spin: d.spin });
      await new Promise((resolve) => parentPort.once('message', resolve));
      await produce(w, d.count, d.batch);
      return;
    }
    case 'ring-echo': {
      const r = new RingReader(d.a, { spin: d.spin });
      const w = new RingWriter(d.b, { spin: d.spin });
      for (let n = 0; n < d.count; ) {
        const m = r.read();
        if (m !== null) {
          while (!w.write(m)) await w.waitWritable(m.length);
          n++;
        } else if (d.sync) r.waitReadableSync();
        else await r.waitReadable();
      }
      return;
    }
    case 'port-consume': {
      let n = 0;
      d.port.on('message', (m) => {
        n += Array.isArray(m) ? m.length : 1;
        if (n >= d.count) {
          post({ n });
          d.port.close();
        }
      });
      return;
    }
    case 'port-echo': {
      let n = 0;
      d.port.on('message', (m) => {
        d.port.postMessage(m);
        if (++n >= d.count) d.port.close();
      });
      return;
    }
    case 'park': {
      const r = new RingReader(d.a);
      post('parking');
      await r.waitReadable();
      post('woke');
      return;
    }
  }
}

async function produce(w, count, batch) {
  const rec = new Uint8Array(SIZE);
  const recs = Array.from({ length: batch }, () => rec);
  for (let n = 0; n < count; ) {
    const k = batch > 1 ? w.writeMany(recs, 0, Math.min(batch, count - n)) : w.write(rec) ? 1 : 0;
    n += k;
    if (k === 0) await w.waitWritable(SIZE);
  }
}

function start(data, transferList) {
  const w = new Worker(new URL(import.meta.url), { workerData: data, transferList });
  const done = new Promise((resolve, reject) => {
    w.once('error', reject);
    w.once('exit', resolve);
  });
  const message = () => new Promise((resolve) => w.once('message', resolve));
  return { w, done, message };
}

const perSecond = (n, ms) => Math.round((n / ms) * 1000);

async function ringOneWay(count, batch, toWorker, spin) {
  const a = createRing();
  if (toWorker) {
    const { message, done } = start({ mode: 'ring-consume', a, count, batch, spin });
    await new Promise((r) => setTimeout(r, 50)); // the worker is up and parked
    const t0 = performance.now();
    const got = message();
    await produce(new RingWriter(a, { spin }), count, batch);
    await got;
    const ms = performance.now() - t0;
    await done;
    return perSecond(count, ms);
  }
  const { w, done } = start({ mode: 'ring-produce', a, count, batch, spin });
  await new Promise((r) => setTimeout(r, 50));
  const r = new RingReader(a, { spin });
  const t0 = performance.now();
  w.postMessage('go');
  let n = 0;
  while (n < count) {
    const got = batch > 1 ? r.readMany(batch).length : r.read() === null ? 0 : 1;
    n += got;
    if (got === 0) await r.waitReadable();
  }
  const ms = performance.now() - t0;
  await done;
  return perSecond(count, ms);
}

async function ringPingPong(rounds, spin, sync) {
  const a = createRing();
  const b = createRing();
  const { done } = start({ mode: 'ring-echo', a, b, count: rounds, spin, sync });
  await new Promise((r) => setTimeout(r, 50));
  const w = new RingWriter(a, { spin });
  const r = new RingReader(b, { spin });
  const rec = new Uint8Array(SIZE);
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    w.write(rec);
    while (r.read() === null) await r.waitReadable();
  }
  const ms = performance.now() - t0;
  await done;
  return perSecond(2 * rounds, ms); // a hop is one message crossing threads
}

async function portOneWay(count, batch) {
  const { port1, port2 } = new MessageChannel();
  const { message, done } = start({ mode: 'port-consume', port: port2, count }, [port2]);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  const got = message();
  for (let n = 0; n < count; n += batch) {
    if (batch === 1) port1.postMessage(new Uint8Array(SIZE));
    else port1.postMessage(Array.from({ length: Math.min(batch, count - n) }, () => new Uint8Array(SIZE)));
  }
  await got;
  const ms = performance.now() - t0;
  port1.close();
  await done;
  return perSecond(count, ms);
}

async function portPingPong(rounds) {
  const { port1, port2 } = new MessageChannel();
  const { done } = start({ mode: 'port-echo', port: port2, count: rounds }, [port2]);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    const back = new Promise((resolve) => port1.once('message', resolve));
    port1.postMessage(new Uint8Array(SIZE));
    await back;
  }
  const ms = performance.now() - t0;
  port1.close();
  await done;
  return perSecond(2 * rounds, ms);
}

async function idleCpu() {
  const a = createRing(1024);
  const { w, message, done } = start({ mode: 'park', a });
  await message();
  await new Promise((r) => setTimeout(r, 100));
  const before = process.cpuUsage();
  await new Promise((r) => setTimeout(r, 1000));
  const used = process.cpuUsage(before);
  const woke = message();
  new RingWriter(a).write(new Uint8Array(1));
  await woke;
  await done;
  void w;
  return +((used.user + used.system) / 1000).toFixed(2);
}

function copyVsView(n) {
  const bytes = new Uint8Array(1 << 20);
  let t0 = performance.now();
  let s = 0;
  for (let i = 0; i < n; i++) s += bytes.slice((i * 16) & 0xfffff, ((i * 16) & 0xfffff) + 16).length;
  const copy = performance.now() - t0;
  t0 = performance.now();
  for (let i = 0; i < n; i++) s += bytes.subarray((i * 16) & 0xfffff, ((i * 16) & 0xfffff) + 16).length;
  const view = performance.now() - t0;
  return { sliceNsPerRecord: +((copy * 1e6) / n).toFixed(1), subarrayNsPerRecord: +((view * 1e6) / n).toFixed(1), check: s > 0 };
}

async function main() {
  const count = Number(process.argv[2] ?? 1_000_000);
  const spin = ring.DEFAULT_RING_SPIN;
  const out = { count, recordBytes: SIZE, spin, load: (await import('node:os')).loadavg().map((x) => +x.toFixed(2)) };
  out.ringOneWay = {
    mainToWorkerPerRecord: await ringOneWay(count, 1, true, spin),
    mainToWorkerBatch1000: await ringOneWay(count, 1000, true, spin),
    workerToMainPerRecord: await ringOneWay(count, 1, false, spin),
    workerToMainBatch1000: await ringOneWay(count, 1000, false, spin),
  };
  out.portOneWay = {
    onePerPost: await portOneWay(Math.min(count, 200_000), 1),
    batch1000PerPost: await portOneWay(count, 1000),
  };
  out.pingPongHopsPerSecond = {
    ringAsyncBothSides: await ringPingPong(50_000, spin, false),
    ringWorkerAtomicsWait: await ringPingPong(50_000, spin, true),
    ringSpin0: await ringPingPong(50_000, 0, false),
    ringSpin20000: await ringPingPong(50_000, 20_000, false),
    port: await portPingPong(20_000),
  };
  out.idleParkedCpuMsPer1s = await idleCpu();
  out.copyVsView = copyVsView(count);
  console.log(JSON.stringify(out, null, 1));
}

if (isMainThread) await main();
else await worker(workerData);
