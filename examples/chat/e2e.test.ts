/**
 * The chat's web client (public/) in a real browser (Chromium, driven by
 * playwright-core) against the real server (server.mjs), in-process: two
 * people in two browser contexts pick names, join a room, see each other's
 * posts and presence; a reloaded page finds its rooms and their history; the
 * server restarts on the same data and port, and the pages reconnect by
 * themselves, one of them after missing a post (it comes back once, from the
 * history); what people write is shown as text; refused posts are shown as such;
 * the pages and a terminal client (cli.mjs) chat in one room.
 * Also a screenshot of a small conversation (examples/chat/screenshot.png with
 * UPDATE_SCREENSHOT=1).
 *
 * The tests are the steps of one story and run in order, each building on the
 * one before. Without Chromium (/usr/bin/chromium, `chromium` on the PATH, or
 * CHROMIUM_PATH) they are skipped, and reported as skipped.
 */
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startChat } from './server.mjs';

type Chat = Awaited<ReturnType<typeof startChat>>;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** CHROMIUM_PATH, else Debian's /usr/bin/chromium, else `chromium` or `chromium-browser` on the PATH; null if none. */
function findChromium(): string | null {
  const env = process.env['CHROMIUM_PATH'];
  if (env) return executable(env) ? env : null;
  if (executable('/usr/bin/chromium')) return '/usr/bin/chromium';
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const found = execFileSync('which', [name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      if (found && executable(found)) return found;
    } catch {
      // (not on the PATH)
    }
  }
  return null;
}

const executablePath = findChromium();
const NO_CHROMIUM = process.env['CHROMIUM_PATH']
  ? `CHROMIUM_PATH=${process.env['CHROMIUM_PATH']} is not an executable`
  : 'no Chromium: install it (Debian: apt-get install chromium), or set CHROMIUM_PATH';
if (executablePath === null) console.warn(`chat e2e tests skipped: ${NO_CHROMIUM}`);

const SCREENSHOT = fileURLToPath(new URL('./screenshot.png', import.meta.url));
const CLI = fileURLToPath(new URL('./cli.mjs', import.meta.url));
const VIEWPORT = { width: 1280, height: 800 };
/** How long a condition may take to hold in the page (a join, a post going round, a reconnect). */
const WAIT = { timeout: 20_000, interval: 50 };
/** Two time zones far apart (10.5 h), neither the server's: each page shows times in its own. */
const ADA_TZ = 'America/New_York';
const LINUS_TZ = 'Asia/Kolkata';

interface Shown {
  id: number;
  name: string;
  text: string;
  time: string;
  ts: number;
}

describe.skipIf(executablePath === null)(`the web client in Chromium${executablePath === null ? ` (skipped: ${NO_CHROMIUM})` : ''}`, () => {
  const dirs: string[] = [];
  let data = '';
  let port = 0;
  let chat: Chat | null = null;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Uncaught errors in any page: none is expected. */
  const pageErrors: string[] = [];
  let ada: Page;
  let linus: Page;
  let linusContext: BrowserContext;

  async function tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  }

  function url(): string {
    if (chat === null) throw new Error('the chat server is not running');
    return chat.url;
  }

  async function openPage(timezoneId: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: VIEWPORT, timezoneId, locale: 'en-GB' });
    contexts.push(context);
    context.setDefaultTimeout(WAIT.timeout);
    const page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(`${err.name}: ${err.message}`));
    await page.goto(url());
    return { context, page };
  }

  async function chooseName(page: Page, name: string): Promise<void> {
    await page.getByLabel('Your name').fill(name);
    await page.getByRole('button', { name: 'Enter', exact: true }).click();
    await expect.poll(() => connection(page), WAIT).toBe('ready');
    await expect.poll(() => page.getByTestId('me-name').textContent(), WAIT).toBe(name);
  }

  async function joinRoom(page: Page, room: string): Promise<void> {
    await page.getByLabel('Join or create a room').fill(room);
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    await expect.poll(() => tabStatus(page, room), WAIT).toBe('joined');
  }

  /** Types a post into the active room and sends it with Enter. */
  async function say(page: Page, room: string, text: string): Promise<void> {
    const box = page.getByLabel(`Message #${room}`);
    await box.fill(text);
    await box.press('Enter');
    await expect.poll(() => box.inputValue(), WAIT).toBe('');
  }

  function connection(page: Page): Promise<string | null> {
    return page.getByTestId('connection').getAttribute('data-state');
  }

  function tabStatus(page: Page, room: string): Promise<string | null> {
    return page.locator(`[data-testid="room-tab"][data-room="${room}"]`).getAttribute('data-status', { timeout: 1_000 }).catch(() => null);
  }

  /** The messages a page shows in a room, in their order on the page. */
  function shown(page: Page, room: string): Promise<Shown[]> {
    return page.locator(`[data-testid="room-pane"][data-room="${room}"] [data-testid="message"]`).evaluateAll((items) =>
      items.map((li) => ({
        id: Number((li as HTMLElement).dataset['id']),
        name: li.querySelector('[data-testid="message-author"]')?.textContent ?? '',
        text: li.querySelector('[data-testid="message-text"]')?.textContent ?? '',
        time: li.querySelector('.msg-meta time')?.textContent ?? '',
        ts: Number((li as HTMLElement).dataset['ts']),
      })),
    );
  }

  async function said(page: Page, room: string): Promise<string[]> {
    return (await shown(page, room)).map((m) => `${m.name}: ${m.text}`);
  }

  /** The names in the "Present" list of the active room, with ×N for a name connected more than once. */
  function present(page: Page): Promise<string[]> {
    return page.getByTestId('members').getByTestId('member').evaluateAll((items) =>
      items.map((li) => {
        const count = li.querySelector('.member-count')?.textContent ?? '';
        return `${(li as HTMLElement).dataset['name']}${count ? ` ${count}` : ''}`;
      }),
    );
  }

  function notices(page: Page, room: string): Promise<string[]> {
    return page.locator(`[data-testid="room-pane"][data-room="${room}"] [data-testid="notice"] > span`).allTextContents();
  }

  function hhmm(ts: number, timeZone: string): string {
    return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ts);
  }

  beforeAll(async () => {
    data = await tempDir('wasmhive-chat-e2e-');
    chat = await startChat({ port: 0, data, workers: 1, quiet: true });
    port = Number(new URL(chat.url).port);
    browser = await chromium.launch({ executablePath: executablePath!, args: ['--no-sandbox'] });
  }, 60_000);

  afterEach(() => {
    expect(pageErrors.splice(0), 'uncaught errors in the pages').toEqual([]);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close().catch(() => {});
    await chat?.close();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }, 60_000);

  it('two people who pick names and join a room see each other\'s posts, in their own time zones, and who is present', async () => {
    ({ page: ada } = await openPage(ADA_TZ));
    ({ context: linusContext, page: linus } = await openPage(LINUS_TZ));
    await chooseName(ada, 'Ada');
    await chooseName(linus, 'Linus');

    await joinRoom(ada, 'general');
    await joinRoom(linus, 'general');
    await expect.poll(() => present(ada), WAIT).toEqual(['Ada', 'Linus']);
    await expect.poll(() => present(linus), WAIT).toEqual(['Ada', 'Linus']);
    await expect.poll(() => notices(ada, 'general'), WAIT).toEqual(['Linus joined']);

    await say(ada, 'general', 'Morning! Did last night\'s build go out?');
    await expect.poll(() => said(linus, 'general'), WAIT).toEqual(['Ada: Morning! Did last night\'s build go out?']);
    await say(linus, 'general', 'It did, at 08:40. Staging has been green since.');
    await say(ada, 'general', 'Great, I\'ll let support know.');
    const conversation = [
      'Ada: Morning! Did last night\'s build go out?',
      'Linus: It did, at 08:40. Staging has been green since.',
      'Ada: Great, I\'ll let support know.',
    ];
    await expect.poll(() => said(ada, 'general'), WAIT).toEqual(conversation);
    await expect.poll(() => said(linus, 'general'), WAIT).toEqual(conversation);

    // Ids 1, 2, 3; each page shows the server's time of each post as HH:MM in its own time zone.
    const forAda = await shown(ada, 'general');
    const forLinus = await shown(linus, 'general');
    expect(forAda.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(forLinus.map((m) => m.ts)).toEqual(forAda.map((m) => m.ts));
    for (const m of forAda) expect(m.time).toBe(hhmm(m.ts, ADA_TZ));
    for (const m of forLinus) expect(m.time).toBe(hhmm(m.ts, LINUS_TZ));
    expect(forAda[0]!.time).not.toBe(forLinus[0]!.time);
    // Nothing is left pending once the server has taken the posts.
    await expect.poll(() => ada.getByTestId('pending-post').count(), WAIT).toBe(0);
  }, 60_000);

  it('a reloaded page keeps its name, joins its rooms again and shows their history', async () => {
    const before = await shown(ada, 'general');
    await linus.reload();
    // No name to choose this time: it was remembered.
    await expect.poll(() => connection(linus), WAIT).toBe('ready');
    expect(await linus.getByTestId('name-form').isVisible()).toBe(false);
    expect(await linus.getByTestId('me-name').textContent()).toBe('Linus');
    await expect.poll(() => tabStatus(linus, 'general'), WAIT).toBe('joined');
    await expect.poll(() => shown(linus, 'general'), WAIT).toEqual(before.map((m) => ({ ...m, time: hhmm(m.ts, LINUS_TZ) })));
    await expect.poll(() => present(linus), WAIT).toEqual(['Ada', 'Linus']);
    // Ada saw the old connection go and the new one come (in either order), and one Linus is left.
    await expect.poll(async () => (await notices(ada, 'general')).sort(), WAIT).toEqual(['Linus joined', 'Linus joined', 'Linus left']);
    await expect.poll(() => present(ada), WAIT).toEqual(['Ada', 'Linus']);

    await say(linus, 'general', 'Back: my browser restarted, and the history is all here.');
    await expect.poll(async () => (await said(ada, 'general')).at(-1), WAIT).toBe('Linus: Back: my browser restarted, and the history is all here.');
  }, 60_000);

  it('takes a screenshot of a small conversation, with a second room that has an unread message', async () => {
    await joinRoom(ada, 'releases');
    await joinRoom(linus, 'releases');
    await ada.getByRole('tab', { name: /general/ }).click();
    await say(linus, 'releases', 'v0.4.2 is out: https://example.com/releases/0.4.2 (notes inside)');
    const badge = ada.locator('[data-testid="room-tab"][data-room="releases"] [data-testid="unread"]');
    await expect.poll(() => badge.textContent(), WAIT).toBe('1');
    await linus.getByRole('tab', { name: /general/ }).click();
    await say(linus, 'general', 'Release notes for it are in #releases, if support asks.');
    await say(ada, 'general', 'Perfect, thanks!');
    await expect.poll(async () => (await said(ada, 'general')).at(-1), WAIT).toBe('Ada: Perfect, thanks!');
    // The link in #releases is an anchor to its URL, built from text.
    const link = linus.locator('[data-testid="room-pane"][data-room="releases"] [data-testid="message-text"] a');
    expect(await link.getAttribute('href')).toBe('https://example.com/releases/0.4.2');

    await ada.getByLabel('Message #general').fill('Anyone up for lunch at 12:30?');
    await ada.mouse.move(0, 0);
    const dir = await tempDir('wasmhive-chat-shot-');
    const path = join(dir, 'chat.png');
    await ada.screenshot({ path });
    const png = await readFile(path);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([VIEWPORT.width, VIEWPORT.height]);
    expect(png.length).toBeGreaterThan(10_000);
    if (process.env['UPDATE_SCREENSHOT'] === '1') await copyFile(path, SCREENSHOT);
    await ada.getByLabel('Message #general').fill('');
  }, 60_000);

  it('shows what people write as text, never as markup', async () => {
    const text = '<img src=x onerror="document.body.dataset.pwned=1"> <b>not bold</b> & <script>document.body.dataset.pwned=2</script>';
    await say(linus, 'general', text);
    await expect.poll(async () => (await said(ada, 'general')).at(-1), WAIT).toBe(`Linus: ${text}`);
    const pane = ada.locator('[data-testid="room-pane"][data-room="general"]');
    expect(await pane.locator('[data-testid="message-text"] img, [data-testid="message-text"] b, [data-testid="message-text"] script').count()).toBe(0);
    expect(await ada.evaluate(() => document.body.dataset['pwned'] ?? null)).toBeNull();
  }, 60_000);

  it('after the server restarts on the same data and port, the pages reconnect by themselves, rejoin, and merge the history without repeats', async () => {
    const before = await shown(ada, 'general');
    const lastId = before.at(-1)!.id;
    // Linus's browser goes offline, so that he misses what is posted after the restart.
    await linusContext.setOffline(true);
    await chat!.close();
    await expect.poll(() => connection(ada), WAIT).toBe('waiting');
    await expect.poll(() => connection(linus), WAIT).toBe('waiting');
    chat = await startChat({ port, data, workers: 1, quiet: true });

    await expect.poll(() => connection(ada), WAIT).toBe('ready');
    await expect.poll(() => tabStatus(ada, 'general'), WAIT).toBe('joined');
    await expect.poll(() => tabStatus(ada, 'releases'), WAIT).toBe('joined');
    // (The page drops what it shows if the server's history lost messages it had shown: the room's history must survive.)
    expect(await shown(ada, 'general'), 'the messages shown after the restart').toEqual(before);
    await expect.poll(() => present(ada), WAIT).toEqual(['Ada']);
    await say(ada, 'general', 'That was a quick restart. Is everything still here?');
    await expect.poll(async () => (await shown(ada, 'general')).map((m) => m.id), WAIT).toEqual([...before.map((m) => m.id), lastId + 1]);
    expect(await connection(linus)).not.toBe('ready');

    // Someone new joins after the restart: the room's history survived it.
    const { page: grace } = await openPage('Europe/Paris');
    await chooseName(grace, 'Grace');
    await joinRoom(grace, 'general');
    await expect.poll(async () => (await shown(grace, 'general')).map((m) => `${m.id} ${m.name}: ${m.text}`), WAIT)
      .toEqual((await shown(ada, 'general')).map((m) => `${m.id} ${m.name}: ${m.text}`));

    // Back online, Linus's page reconnects by itself; the post it missed comes from the history, once, and nothing repeats.
    await linusContext.setOffline(false);
    await expect.poll(() => connection(linus), WAIT).toBe('ready');
    await expect.poll(() => tabStatus(linus, 'general'), WAIT).toBe('joined');
    const all = (await shown(ada, 'general')).map((m) => `${m.id} ${m.name}: ${m.text}`);
    await expect.poll(async () => (await shown(linus, 'general')).map((m) => `${m.id} ${m.name}: ${m.text}`), WAIT).toEqual(all);
    await expect.poll(() => present(linus), WAIT).toEqual(['Ada', 'Grace', 'Linus']);
    expect(await notices(linus, 'general')).toContain('Reconnected: 1 new message.');

    await say(linus, 'general', 'Yes, and I caught up on what I missed.');
    for (const page of [ada, grace]) {
      await expect.poll(async () => (await shown(page, 'general')).at(-1), WAIT).toMatchObject({ id: lastId + 2, name: 'Linus', text: 'Yes, and I caught up on what I missed.' });
    }
  }, 90_000);

  it('posting too fast: the refused posts are marked and an error is shown, and the connection stays up', async () => {
    await joinRoom(ada, 'flood');
    // 80 posts at once: past the burst (20, then 10 a second), the server refuses posts (rate_limited).
    await ada.evaluate(() => {
      const box = document.querySelector<HTMLTextAreaElement>('[data-testid="post-input"]')!;
      const form = document.querySelector<HTMLFormElement>('[data-testid="composer"]')!;
      for (let i = 1; i <= 80; i++) {
        box.value = `flood ${i}`;
        form.requestSubmit();
      }
    });
    await expect.poll(() => ada.locator('[data-testid="error"][data-code="rate_limited"]').count(), WAIT).toBeGreaterThan(0);
    const failed = ada.locator('[data-testid="pending-post"][data-state="failed"]');
    // Each post is either shown (taken) or marked as refused, none left pending.
    await expect.poll(async () => (await shown(ada, 'flood')).length + (await failed.count()), WAIT).toBe(80);
    expect(await ada.getByTestId('pending-post').count()).toBe(await failed.count());
    expect(await failed.count()).toBeGreaterThan(0);
    // The burst of 20 requests, less the join.
    expect((await shown(ada, 'flood')).length).toBeGreaterThanOrEqual(19);
    expect(await failed.first().textContent()).toContain('too fast');
    expect(await connection(ada)).toBe('ready');
    // The posts that went through are in order, with no gap.
    const ids = (await shown(ada, 'flood')).map((m) => m.id);
    expect(ids).toEqual(ids.map((_, i) => i + 1));
  }, 60_000);

  it('two pages and a terminal client (cli.mjs) chat in one room: each sees the others\' posts', async () => {
    await joinRoom(linus, 'terminal');
    // (Ada's budget of requests spent by the flood above comes back at 10 a second.)
    await new Promise((r) => setTimeout(r, 2_500));
    await joinRoom(ada, 'terminal');
    const cli = spawn(process.execPath, [CLI, '--name', 'term', '--room', 'terminal', '--url', chat!.wsUrl, '--print-json'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const frames: { type: string; name?: string; text?: string }[] = [];
    let pending = '';
    cli.stdout.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
        frames.push(JSON.parse(pending.slice(0, i)));
        pending = pending.slice(i + 1);
      }
    });
    const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    try {
      await expect.poll(() => present(ada), WAIT).toEqual(['Ada', 'Linus', 'term']);
      cli.stdin.write('hello from the terminal\n');
      for (const page of [ada, linus]) await expect.poll(() => said(page, 'terminal'), WAIT).toContain('term: hello from the terminal');
      await say(linus, 'terminal', 'hello terminal, from a page');
      await expect.poll(() => frames.some((f) => f.type === 'message' && f.name === 'Linus' && f.text === 'hello terminal, from a page'), WAIT).toBe(true);
      cli.stdin.end();
      expect(await exited).toBe(0);
      await expect.poll(() => present(ada), WAIT).toEqual(['Ada', 'Linus']);
    } finally {
      cli.kill();
    }
  }, 60_000);
});
