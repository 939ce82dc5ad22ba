import { describe, it } from 'vitest';
import { pino } from 'pino';
import { Hive } from './index.js';
import { guest } from '../../test/helpers/hive.js';

describe('pool smoke', () => {
  it('spawns on a worker and calls it', async () => {
    const hive = new Hive({ workers: 2, logger: pino({ level: 'silent' }) });
    hive.define('counter', guest('counter'));
    const t0 = performance.now();
    const c = hive.spawn('counter');
    console.log('spawn ms', performance.now() - t0);
    const r = await c.call('up');
    console.log('answer', r);
    hive.close();
  });
});
