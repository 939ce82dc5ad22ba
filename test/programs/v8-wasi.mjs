// Reference runner for the tests: runs a WASI command on V8 with node:wasi.
//
//   node --no-incremental-marking v8-wasi.mjs JOB_JSON
//
// JOB_JSON: { wasm, args, env, preopens, stdin, stdout, stderr } (the last
// three are file paths for the guest's standard streams). Prints
// { exitCode } or { exitCode: null, trap } as JSON on stdout.
//
// The guest runs in a worker thread with a 256 MB stack: V8's default 1 MB
// native stack overflows long before a deep-recursion program is done. The
// tests start this in a child process, with --no-incremental-marking: in
// Node 20.20 V8 can die with "Fatal error: unreachable code" in the GC when
// a node:wasi guest grows its memory by tens of MiB, and a fatal error in a
// thread takes the whole process down.
import { readFileSync, openSync, closeSync } from 'node:fs';
import { WASI } from 'node:wasi';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

if (isMainThread) {
  const job = JSON.parse(process.argv[2]);
  const worker = new Worker(new URL(import.meta.url), { workerData: job, resourceLimits: { stackSizeMb: 256 } });
  worker.once('message', (result) => {
    process.stdout.write(JSON.stringify(result));
    void worker.terminate();
  });
  worker.once('error', (e) => {
    process.stderr.write(`v8-wasi: worker failed: ${e && e.stack}\n`);
    process.exitCode = 2;
  });
} else {
  const job = workerData;
  const fds = [openSync(job.stdin, 'r'), openSync(job.stdout, 'w'), openSync(job.stderr, 'w')];
  const wasi = new WASI({
    version: 'preview1', args: job.args, env: job.env, preopens: job.preopens, returnOnExit: true,
    stdin: fds[0], stdout: fds[1], stderr: fds[2],
  });
  let result;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(job.wasm)), wasi.getImportObject());
    result = { exitCode: wasi.start(instance) };
  } catch (e) {
    result = { exitCode: null, trap: String(e && e.message) };
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  parentPort.postMessage(result);
}
