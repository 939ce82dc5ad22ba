/**
 * A snapshot's links are untrusted input (issue 10, second pass): a crafted
 * actor snapshot listing links to actors of other spawn trees or to a
 * supervisor was restored with those links, so the restored actor's exit
 * killed them, bypassing `signals: 'tree'`.
 */
import { describe, expect, it } from 'vitest';
import { cmd, forge, settle, testHive } from '../../test/helpers/hive.js';


describe('links of restored actors', () => {
  // What broke: restore linked the actor with every live process its snapshot named.
  it('regression: a crafted snapshot linked its actor to a victim of another tree and to a supervisor, whose exit then killed them; under signals: tree those links are now dropped', async () => {
    const { hive } = testHive();
    const victim = hive.spawn('probe');
    const sup = hive.supervise({ strategy: 'one-for-one', children: [{ id: 'c', module: 'counter' }] });
    const attacker = hive.spawn('probe');
    await settle(hive);
    const bytes = forge(hive.snapshot(attacker), (b) => {
      b['links'] = [victim.id, sup.id];
    });
    const restored = hive.restore(bytes, { id: 'new' });
    expect(restored.info()!.links).toEqual([]);
    restored.kill();
    await restored.exited;
    await settle(hive);
    expect(victim.alive).toBe(true);
    expect(sup.alive).toBe(true);
    expect(await cmd(victim, 'self')).toBe(victim.id);
    // With signals: 'open' (Erlang's rule) the same snapshot's links are restored.
    const open = testHive({ signals: 'open' });
    const v2 = open.hive.spawn('probe');
    const a2 = open.hive.spawn('probe');
    await settle(open.hive);
    const bytes2 = forge(open.hive.snapshot(a2), (b) => {
      b['links'] = [v2.id];
    });
    expect(open.hive.restore(bytes2, { id: 'new' }).info()!.links).toEqual([v2.id]);
    open.hive.close();
    hive.close();
  });

  it('an actor restored into a tree (restore { tree }) gets back its links with actors of that tree', async () => {
    const { hive } = testHive();
    const a = hive.spawn('probe');
    const b = hive.spawn('probe', { tree: a });
    await settle(hive);
    expect(await cmd(b, 'link', a.id)).toBe(0);
    const bytes = hive.snapshot(b);
    b.kill();
    await b.exited;
    await settle(hive);
    expect(a.alive).toBe(false); // the link took it along
    const c = hive.spawn('probe');
    await settle(hive);
    const withLink = forge(bytes, (body) => {
      body['links'] = [c.id];
    });
    expect(hive.restore(withLink, { id: 'new', tree: c }).info()!.links).toEqual([c.id]);
    hive.close();
  });
});
