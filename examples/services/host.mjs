// Native services from a user's point of view: the host registers the
// built-in `kv` and `http` services and a service of its own (`greeter`),
// and grants them to two actors, one in AssemblyScript (visitor.ts) and one
// in C (visitor-c.c), which use them and report what they saw. A third
// actor, granted `greeter` only, finds no `kv`.
// Run: npm install && node examples/services/host.mjs
import { createServer } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Hive, http, kv } from 'wasmhive';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

// A local HTTP server for the actors to fetch (on a free port).
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello from the local server');
  } else {
    res.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const hive = new Hive();
hive.service('kv', kv());                         // a key-value store per actor
hive.service('http', http({ allow: [origin] }));  // fetch, to this origin only
hive.service('greeter', {
  greet: (name, ctx) => `hello ${name}, from actor ${ctx.caller}`,  // ctx.caller: the calling actor's pid
  wait: async (ms) => {                                            // async: the caller's VM pauses until it settles
    await sleep(ms);
    return ms;
  },
});

/** Spawns a visitor with these grants and waits for its report (one map). */
async function visit(module, services) {
  const inbox = hive.inbox();
  const actor = hive.spawn(here(module), { services, init: { url: `${origin}/`, report: inbox.ref } });
  const report = await inbox.next({ timeout: 30_000 });
  inbox.close();
  await actor.exited;
  return { ...report, pid: actor.id };
}

/** One line per fact; nothing for a service that was not granted but its lookup status. */
function show(title, r) {
  console.log(title);
  const lookup = (name, status) => console.log(`  ${name}: ${status === 0 ? 'found' : `lookup ${status === -2 ? 'NOT_FOUND' : 'failed'} (${status})`}`);
  lookup('kv', r.kv);
  if (r.kv === 0) {
    console.log(`  kv.incr visits, twice: ${r.visits}`);
    console.log(`  kv.get note: ${JSON.stringify(r.note)}`);
  }
  lookup('http', r.http);
  if (r.http === 0) {
    console.log(`  http.fetch status: ${r.status}`);
    console.log(`  http.fetch body: ${JSON.stringify(r.body)}`);
  }
  lookup('greeter', r.greeter);
  if (r.greeter === 0) {
    console.log(`  greeter.greet: ${JSON.stringify(r.greeting)} (its pid is ${r.pid})`);
    console.log(`  greeter.wait: ${r.waited}`);
  }
  for (const e of r.errors) console.log(`  error: ${e}`);
}

try {
  show('AssemblyScript actor, granted kv, http, greeter:', await visit('./visitor.wasm', ['kv', 'http', 'greeter']));
  show('C actor, granted kv, http, greeter:', await visit('./visitor-c.wasm', ['kv', 'http', 'greeter']));
  show('AssemblyScript actor, granted greeter only:', await visit('./visitor.wasm', ['greeter']));
} finally {
  hive.close();
  server.close();
}
