import { defineConfig } from 'vitest/config';

const shared = { testTimeout: 60_000, hookTimeout: 60_000 };

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'guest/**/*.test.ts'],
          // The child-process attacks measure the host's latency, and the crash tests keep a core busy with their
          // children for minutes: they run after everything else (below), each alone.
          exclude: ['test/attacks/**', 'test/durable/crash.test.ts', '**/node_modules/**'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          // The executor conformance suite: the actor tests again, over a transport that serializes
          // every envelope and delivers it on a later macrotask in a shuffled causal order.
          name: 'conformance',
          include: ['src/actors/**/*.test.ts', 'test/c-guest.test.ts'],
          // (pool.test.ts makes hives on worker pools of its own: the unit run covers it.)
          exclude: ['src/actors/codec.test.ts', 'src/actors/pool.test.ts', '**/node_modules/**'],
          env: { WASMHIVE_TRANSPORT: 'serializing' },
          sequence: { groupOrder: 0 },
        },
      },
      // The executor conformance suite again on a pooled hive: the actors on one worker thread, then on two.
      ...[1, 2].map((workers) => ({
        test: {
          ...shared,
          name: `workers-${workers}`,
          include: ['src/actors/**/*.test.ts', 'test/c-guest.test.ts'],
          exclude: ['src/actors/codec.test.ts', 'src/actors/pool.test.ts', '**/node_modules/**'],
          env: { WASMHIVE_WORKERS: String(workers) },
          sequence: { groupOrder: 0 },
        },
      })),
      {
        test: {
          ...shared,
          name: 'attacks',
          include: ['test/attacks/**/*.test.ts'],
          // One file at a time, once the unit tests are done, so that no other test shares the 2 cores
          // with an attack whose latency is measured (the harness also runs one attack at a time).
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...shared,
          // Durable actors killed with SIGKILL, 100 runs per store (issue 14): after the attacks, alone, so that their
          // children neither slow the timing tests beside them nor are slowed by them.
          name: 'crash',
          include: ['test/durable/crash.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          ...shared,
          // examples/chat (issue 15): servers with worker pools, WebSocket clients, a browser, a killed server
          // process: one file at a time, last, so that their threads and children share the cores with nothing.
          name: 'chat',
          include: ['examples/chat/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
