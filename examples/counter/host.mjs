// The host side of the WasmBox counter: spawn the guest, talk to it.
// Run: npm install && node examples/counter/host.mjs
import { fileURLToPath } from 'node:url';
import { Hive } from 'wasmhive';

const hive = new Hive();
const counter = hive.spawn(fileURLToPath(new URL('./counter.wasm', import.meta.url)), { name: 'counter' });

console.log(await counter.call('up'));    // value=1
console.log(await counter.call('up'));    // value=2
console.log(await counter.call('down'));  // value=1

const bytes = counter.snapshot();         // the running actor, as bytes
await counter.stop();
const other = new Hive();
const again = other.restore(bytes, { module: fileURLToPath(new URL('./counter.wasm', import.meta.url)) });
console.log(await again.call('up'));      // value=2, in another hive
other.close();
hive.close();
