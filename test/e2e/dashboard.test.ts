// The dashboard in real headless Chromium against a real Redis with real workers: every page and action by
// clicking, live updates arriving without reloads (and coming back after the connection drops), hostile job
// arguments shown as text and never run. With UPDATE_SCREENSHOTS=1 it also saves each page, light and dark, to
// docs/screenshots/.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChargeCard, demoJobs, ExportReport, ResizeImage, SendWelcomeEmail } from '../../src/demo/jobs.js';
import { Resque } from '../../src/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { type DashboardServer, startDashboardServer } from '../../src/web/index.js';
import { Worker } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { before, registerWorker } from '../web/client.js';
import { HOSTILE } from '../web/fixture.js';
import { launchChromium } from './browser.js';

const SCREENSHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const url = sharedRedisUrl();
const namespace = uniqueNamespace('e2e-web');
const keys = new Keys(namespace);
const redis = rawRedis();
const resque = new Resque({ redis: url, namespace, jobs: demoJobs });
let workers: Worker[] = [];
let served: DashboardServer;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
const dialogs: string[] = [];

beforeAll(async () => {
  await resque.enqueueBulk(
    SendWelcomeEmail,
    Array.from({ length: 30 }, (_, i) => [i, `user${i}@example.com`]),
  );
  await resque.enqueueBulk(ChargeCard, [
    [1, 700],
    [2, 1400],
    [3, 999],
  ]);
  await resque.enqueueBulk(ExportReport, [['q1'], ['q2']]);
  await resque.enqueueTo('mail', 'Evil', ...HOSTILE);
  workers = [1, 2].map(
    (n) =>
      new Worker({
        redis: url,
        namespace,
        hostname: `e2e-${n}`,
        jobs: demoJobs,
        queues: ['mail', 'billing', 'reports', 'images'],
        concurrency: 2,
        intervalMs: 200,
        setProcessTitle: false,
        logger: createLogger('silent'),
      }),
  );
  for (const worker of workers) await worker.start();
  await waitFor(async () => (await redis.llen(keys.failed)) >= 5, 20_000, 'the demo failures');
  // A queue the workers do not take, with a hostile job and a slow one; a stuck and a dead worker (Ruby-style).
  await resque.enqueueTo('parked', 'Evil', ...HOSTILE);
  await resque.enqueueBulk(ResizeImage, [['a.png', 64, 10]], { queue: 'parked' });
  await resque.enqueueBulk(
    SendWelcomeEmail,
    Array.from({ length: 25 }, (_, i) => [100 + i, 'bulk@example.com']),
    {
      queue: 'parked',
    },
  );
  await registerWorker(redis, namespace, 'legacy-host:77:parked', {
    heartbeat: before(0),
    job: { queue: 'parked', runAt: before(3_600_000), payload: '{"class":"Stuck","args":[1]}' },
  });
  await registerWorker(redis, namespace, 'legacy-host:78:parked', { heartbeat: before(900_000) });
  served = await startDashboardServer({
    redis: url,
    namespace,
    port: 0,
    pollIntervalMs: 400,
    sampleIntervalMs: 1000,
  });
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.accept();
  });
}, 60_000);

afterAll(async () => {
  await browser?.dispose();
  await served?.close();
  await Promise.all(workers.map((w) => w.stop('term')));
  await resque.close();
  redis.disconnect();
});

const go = async (path: string) => {
  const response = await page.goto(`${served.url.replace(/\/$/, '')}${path}`);
  expect(response?.status(), path).toBe(200);
};
const notice = () => page.locator('.notice').textContent();
/** expect.poll with room for a loaded machine (its default gives up after one second). */
const eventually = <T>(probe: () => T | Promise<T>) => expect.poll(probe, { timeout: 15_000, interval: 50 });

describe('pages, by clicking', () => {
  it('overview shows the counts, charts and who is working, then every tab opens', async () => {
    await go('/overview');
    expect(await page.locator('.card', { hasText: 'failed' }).locator('.value').textContent()).toBe(
      String(await redis.llen(keys.failed)),
    );
    await eventually(() => page.locator('figure.chart').count()).toBe(2);
    for (const [tab, heading] of [
      ['Working', /workers working/],
      ['Failed', /Failed jobs/],
      ['Errors', /groups/],
      ['Queues', /Queues/],
      ['Workers', /Workers/],
      ['Stats', /Resque/],
    ] as const) {
      await page.click(`nav.tabs >> text=${tab}`);
      await eventually(() => page.locator('main').textContent()).toMatch(heading);
      expect(await page.locator('nav.tabs a.active').textContent()).toBe(tab);
    }
  });

  it('workers: stuck and dead are flagged, hosts have their own tab, a worker has its detail page', async () => {
    await go('/workers');
    expect(await page.locator('tr.health-dead').count()).toBe(1);
    expect(await page.locator('tr.health-stuck').count()).toBe(1);
    await page.click('nav.subtabs >> text=legacy-host');
    await eventually(() => page.locator('h1').textContent()).toContain('legacy-host');
    await page.click('a:has-text("legacy-host:77")');
    await eventually(() => page.locator('h1').textContent()).toContain('legacy-host:77:parked');
    expect(await page.locator('.warn').textContent()).toMatch(/job running for/);
    expect(await page.locator('main').textContent()).not.toContain('Isolation');
    await go(`/workers/${encodeURIComponent(workers[0]!.id)}`);
    await eventually(() => page.locator('main').textContent()).toMatch(/Isolation\s*none/);
  });

  it('stats: Resque, Redis INFO, the keys browser and one key', async () => {
    await go('/stats');
    expect(await page.locator('figure.chart').count()).toBe(3);
    await page.click('nav.subtabs >> text=Redis');
    await eventually(() => page.locator('main').textContent()).toContain('redis_version');
    await page.click('nav.subtabs >> text=Keys');
    await page.click('a:text-is("queue:parked")');
    await eventually(() => page.locator('h1').textContent()).toContain('queue:parked');
    expect(await page.locator('td pre.cell').first().textContent()).toContain('Evil');
  });
});

describe('actions, by clicking', () => {
  it('a queue: pause it (after a confirm), see it marked paused, resume it', async () => {
    await go('/queues');
    await page.click('a:text-is("parked")');
    await page.click('button:text-is("Pause")');
    await eventually(notice).toContain('Paused parked.');
    expect(dialogs.at(-1)).toContain('Stop resque-ts workers taking jobs from parked?');
    expect(await redis.hexists(keys.pausedQueues, 'parked')).toBe(1);
    await eventually(() => page.locator('h1 .state-paused').textContent()).toBe('paused');
    await page.click('button:text-is("Resume")');
    await eventually(notice).toContain('Resumed parked.');
    expect(await redis.hexists(keys.pausedQueues, 'parked')).toBe(0);
  });

  it('a queue: limit it from its page, see it in the Limits section of the Queues page, remove the limit', async () => {
    await go('/queues/parked');
    await page.fill('input[name="limit"]', '2');
    await page.click('button:text-is("Set limit")');
    await eventually(notice).toContain('At most 2 jobs of parked run at once.');
    expect(await redis.hget(keys.limits, 'queue:parked')).toBe('2');
    await eventually(() => page.locator('#flow .state-limited').textContent()).toBe('limited');
    await go('/queues');
    const row = page.locator('#limits tr[data-limit="queue:parked"]');
    await eventually(() => row.textContent()).toMatch(/queue parked\s*0 \/ 2\s*0/);
    expect(await row.locator('meter').getAttribute('max')).toBe('2');
    await row.locator('a[href$="/queues/parked"]').click();
    await page.click('button:text-is("Remove limit")');
    await eventually(notice).toContain('Removed the limit of parked.');
    expect(await redis.hexists(keys.limits, 'queue:parked')).toBe(0);
  });

  it('a queue: page through it, search, remove the matches after a count, then remove it', async () => {
    await go('/queues');
    await page.click('a:text-is("parked")');
    await eventually(() => page.locator('.pager').textContent()).toContain('1–20 of 27');
    await page.click('.pager >> text=next ›');
    await eventually(() => page.locator('.pager').textContent()).toContain('21–27 of 27');
    await page.fill('input[name=args]', 'bulk@');
    await page.click('form.filters button');
    await page.click('text=Remove matching jobs…');
    await eventually(() => page.locator('main').textContent()).toContain('25 of 27 jobs');
    await page.click('button:has-text("Remove 25 jobs")');
    await eventually(notice).toContain('Removed 25 jobs from parked.');
    expect(await redis.llen(keys.queue('parked'))).toBe(2);
    await page.click('text=Remove queue…');
    await page.click('button:has-text("Remove queue")');
    await eventually(notice).toContain('Removed queue parked');
    expect(await redis.sismember(keys.queues, 'parked')).toBe(0);
  });

  it('failures: filter, retry one, remove one, then the bulk actions after their counts', async () => {
    await go('/failed');
    await page.fill('input[name=class]', 'Demo::ChargeCard');
    await page.click('form.filters button');
    await eventually(() => page.locator('article.failure').count()).toBe(2);
    const failedBefore = await redis.llen(keys.failed);
    await page.locator('article.failure button:has-text("Retry")').first().click();
    await eventually(notice).toContain('Retried a Demo::ChargeCard on billing.');
    // The retried charge is declined again: wait for its new failure, so the counts below stay put.
    await waitFor(
      async () => (await redis.llen(keys.failed)) === failedBefore + 1,
      20_000,
      'the retried job to fail',
    );
    await page.locator('article.failure button:has-text("Remove")').first().click();
    await eventually(notice).toContain('Removed a failed');
    expect(await redis.llen(keys.failed)).toBe(failedBefore);
    await go('/failed');
    await page.click('text=Clear retried…');
    await eventually(() => page.locator('h1').textContent()).toMatch(/Remove \d+ failed jobs?\?/);
    await page.click('main.confirm button');
    await eventually(notice).toMatch(/Removed \d+ failed jobs/);
    await page.click('text=Retry all…');
    await eventually(() => page.locator('h1').textContent()).toMatch(/Retry \d+ failed jobs?\?/);
    const beforeRetryAll = await redis.llen(keys.failed);
    await page.click('main.confirm button');
    await eventually(notice).toMatch(/Retried \d+ failed jobs/);
    // Every retried job fails again (each always does): wait for them, so the next counts stay put.
    const retried = Number(/Retried (\d+)/.exec((await notice()) ?? '')![1]);
    await waitFor(
      async () => (await redis.llen(keys.failed)) === beforeRetryAll + retried,
      20_000,
      'the retried jobs to fail again',
    );
  });

  it('errors: a group links to its failures and clears them after a count', async () => {
    await waitFor(async () => (await redis.llen(keys.failed)) > 0, 20_000, 'failures again');
    await go('/errors');
    const row = page.locator('table.groups tbody tr', { hasText: 'ExportReport' });
    await row.locator('td a').first().click();
    await eventually(() => page.locator('main').textContent()).toContain('Error group');
    await go('/errors');
    await page.locator('table.groups tbody tr', { hasText: 'ExportReport' }).locator('text=Clear…').click();
    await eventually(() => page.locator('h1').textContent()).toMatch(/Remove \d+ failed jobs?\?/);
    await page.click('main.confirm button');
    await eventually(notice).toMatch(/Removed \d+ failed jobs/);
  });
});

describe('retries, by clicking', () => {
  it('the Retries tab lists waiting jobs with their next attempt and last error; retry now and remove them', async () => {
    const error = {
      attempt: 1,
      failed_at: '2026/11/27 22:09:46 UTC',
      exception: 'Net::ReadTimeout',
      error: 'gateway slow',
      backtrace: [],
    };
    const waiting = (n: number) =>
      `${String(n).padStart(16, '0')}\nparked-retries\n{"class":"Demo::ChargeCard","args":[${n},700],"attempt":2,"errors":[${JSON.stringify(error)}]}`;
    // Due in a year: no worker's promoter moves them meanwhile.
    const due = Date.now() + 365 * 86_400_000;
    await redis.zadd(keys.retrySet, due, waiting(1), due + 1, waiting(2));
    await go('/overview');
    expect(await page.locator('.card', { hasText: 'retrying' }).locator('.value').textContent()).toBe('2');
    await page.click('nav.tabs >> text=Retries');
    await eventually(() => page.locator('main h1').textContent()).toMatch(/Retries\s*2 waiting/);
    const rows = page.locator('table.retries tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.first().textContent()).toContain('Net::ReadTimeout');
    expect(await rows.first().textContent()).toContain('gateway slow');
    await rows.first().locator('button:has-text("Retry now")').click();
    await eventually(notice).toContain('Queued the job for its next attempt now.');
    expect(await redis.lrange(keys.queue('parked-retries'), 0, -1)).toEqual([waiting(1).split('\n')[2]]);
    await page.locator('table.retries tbody tr').first().locator('button:has-text("Remove")').click();
    await eventually(notice).toContain('Removed the job');
    expect(await redis.zcard(keys.retrySet)).toBe(0);
    expect(await page.locator('main').textContent()).toContain('No jobs waiting to be retried.');
  });
});

describe('what operators notice', () => {
  it('on a 390 px phone the tabs stay on one row and no page scrolls sideways', async () => {
    const phone = await browser.newPage();
    try {
      await phone.setViewportSize({ width: 390, height: 844 });
      for (const path of [
        '/overview',
        '/working',
        '/failed',
        '/queues',
        '/workers',
        '/retries',
        '/stats/resque',
        '/stats/redis',
      ]) {
        const response = await phone.goto(`${served.url.replace(/\/$/, '')}${path}`);
        expect(response?.status(), path).toBe(200);
        const layout = (await phone.evaluate(`({
          width: document.documentElement.scrollWidth,
          tabs: document.querySelector('nav.tabs').getBoundingClientRect().height,
          tab: document.querySelector('nav.tabs a').getBoundingClientRect().height,
        })`)) as { width: number; tabs: number; tab: number };
        expect(layout.width, path).toBeLessThanOrEqual(390);
        expect(layout.tabs, path).toBeLessThan(layout.tab * 1.5);
      }
    } finally {
      await phone.close();
    }
  });

  it('Stats → Redis shows the main figures and folds the sections', async () => {
    await go('/stats/redis');
    expect(await page.locator('.redis-summary dt').first().textContent()).toBe('Version');
    expect(await page.locator('details.info-section[open]').count()).toBe(0);
    const height = (await page.evaluate('document.documentElement.scrollHeight')) as number;
    expect(height).toBeLessThan(1500);
    await page.click('details.info-section summary:has-text("Server")');
    await eventually(() =>
      page.locator('details.info-section[open] th:text-is("redis_version")').count(),
    ).toBe(1);
  });

  it("a worker's counters say which are the whole worker's since start, and which one slot's", async () => {
    const id = workers[0]!.id;
    // Read before the page, so the page's figures can only be as large or larger.
    const api = await fetch(`${served.url}api/workers/${encodeURIComponent(id)}`).then(
      (r) => r.json() as Promise<{ processed: number; process?: { processed: number } }>,
    );
    await go(`/workers/${encodeURIComponent(id)}`);
    const cell = (await page.locator('td[data-counter="processed"]').textContent()) ?? '';
    const shown = Number(/^[\d,]+/.exec(cell)![0].replaceAll(',', ''));
    expect(api.process).toBeDefined();
    expect(shown).toBeGreaterThanOrEqual(api.process!.processed);
    if (shown !== api.processed) {
      expect(cell).toContain('since the worker started, all its slots');
      expect(cell).toMatch(/[\d,]+ by this slot/);
    }
  });

  it('the charts say what they count, from the first minute on', async () => {
    await go('/overview');
    const note = page.locator('p.chart-note');
    expect(await note.count()).toBe(1);
    expect(await note.textContent()).toMatch(/samples a running dashboard takes every 10 s/);
    await go('/stats/resque');
    expect(await page.locator('p.chart-note').count()).toBe(1);
  });

  it("list views show job arguments as stored: Ruby's 1.0 and integers beyond 2^53", async () => {
    await redis
      .pipeline()
      .sadd(keys.queues, 'ruby-numbers')
      .rpush(keys.queue('ruby-numbers'), '{"class":"Legacy","args":[1.0,9007199254740993]}')
      .exec();
    await go('/queues/ruby-numbers');
    expect(await page.locator('table.jobs code.args').first().textContent()).toBe('[1.0,9007199254740993]');
    const rubyWorker = 'ruby-host:4242:ruby-numbers';
    await redis
      .pipeline()
      .sadd(keys.workers, rubyWorker)
      .set(
        keys.worker(rubyWorker),
        '{"queue":"ruby-numbers","run_at":"2026-11-27T21:39:58Z","payload":{"class":"Legacy","args":[1.0,9007199254740993]}}',
      )
      .exec();
    await go('/working');
    expect(await page.locator('code.args', { hasText: '9007199254740993' }).first().textContent()).toBe(
      '[1.0,9007199254740993]',
    );
    await redis.pipeline().srem(keys.workers, rubyWorker).del(keys.worker(rubyWorker)).exec();
  });
});

describe('live updates', () => {
  it('new work appears without a reload, and polling comes back after the connection drops', async () => {
    await go('/overview');
    await page.evaluate('window.marker = 42');
    await resque.enqueueTo('fresh-queue', 'Later', 1);
    await expect
      .poll(() => page.locator('#live').textContent(), { timeout: 10_000 })
      .toContain('fresh-queue');
    expect(await page.evaluate('window.marker')).toBe(42);
    await browser.setOffline(true);
    await expect
      .poll(() => page.locator('#live-status').getAttribute('data-state'), { timeout: 10_000 })
      .toBe('offline');
    await resque.enqueueTo('after-outage', 'Later', 2);
    await browser.setOffline(false);
    await expect
      .poll(() => page.locator('#live-status').getAttribute('data-state'), { timeout: 15_000 })
      .toBe('live');
    await expect
      .poll(() => page.locator('#live').textContent(), { timeout: 10_000 })
      .toContain('after-outage');
    expect(await page.evaluate('window.marker')).toBe(42);
  });
});

describe('hostile job arguments', () => {
  it('are shown as text on queue, failure and key pages, and never run', async () => {
    await resque.enqueueTo('hostile', 'Evil', ...HOSTILE);
    const failures = await fetch(`${served.url}api/failed?class=Evil`).then(
      (r) => r.json() as Promise<{ failures: Array<{ id: string }> }>,
    );
    const paths = ['/queues/hostile', '/failed?class=Evil', '/stats/keys/queue%3Ahostile'];
    if (failures.failures[0]) paths.push(`/failure/${encodeURIComponent(failures.failures[0].id)}`);
    for (const path of paths) {
      await go(path);
      await page.waitForTimeout(50);
      expect(await page.locator('main').textContent(), path).toContain(HOSTILE[0]);
      // A string, evaluated in the page (this project's TypeScript has no DOM types).
      const state = (await page.evaluate(`({
        pwned: window.__pwned,
        handlers: document.querySelectorAll('[onerror],[onload],[onclick]').length,
        scripts: [...document.scripts].map((s) => s.src),
        jsLinks: document.querySelectorAll('a[href^="javascript:"]').length,
      })`)) as { pwned: unknown; handlers: number; scripts: string[]; jsLinks: number };
      expect(state.pwned, path).toBeUndefined();
      expect(state.handlers, path).toBe(0);
      expect(state.jsLinks, path).toBe(0);
      expect(
        state.scripts.every((src) => src.includes('/assets/app.js')),
        path,
      ).toBe(true);
    }
    expect(dialogs.filter((d) => /^[123]$/.test(d))).toEqual([]);
  });
});

/**
 * An hour of stats samples before now, as a dashboard running all along would have written them (a busy hour with a
 * failure spike), so the screenshots' charts have a history.
 */
async function seedHistory(): Promise<void> {
  const period = 10_000;
  const end = Math.floor(Date.now() / period) * period - period;
  const { groups } = (await fetch(`${served.url}api/errors`).then((r) => r.json())) as {
    groups: Array<{ id: string }>;
  };
  const [current, currentFailed] = await redis.mget(keys.processed, keys.failedCount);
  let processed = 0;
  let failed = 0;
  const pipeline = redis.pipeline().del(keys.statsSamples);
  for (let i = 360; i > 0; i--) {
    const at = end - i * period;
    const wave = Math.round(40 + 25 * Math.sin(i / 25) + ((i * 7919) % 13));
    const spike = i > 120 && i < 150 ? Math.round(wave * 0.3) : (i * 31) % 3 === 0 ? 1 : 0;
    processed += wave;
    failed += spike;
    if (i === 1) {
      processed += Number(current ?? 0);
      failed += Number(currentFailed ?? 0);
    }
    const g = spike > 0 && groups[0] ? { [groups[0].id]: spike } : {};
    const sample = {
      t: at,
      p: processed,
      f: failed,
      pend: 20 + ((i * 17) % 40),
      lat: 2000 + ((i * 977) % 9000),
      g,
    };
    pipeline.zadd(keys.statsSamples, at, JSON.stringify(sample));
  }
  // The counters go on from the history's last sample, so the next real sample adds only what really happens.
  pipeline.set(keys.processed, processed).set(keys.failedCount, failed);
  await pipeline.exec();
}

describe.runIf(process.env['UPDATE_SCREENSHOTS'] === '1')('screenshots', () => {
  it('saves every page, light and dark, to docs/screenshots', async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await seedHistory();
    await resque.enqueueBulk(
      ResizeImage,
      Array.from({ length: 12 }, (_, i) => [`big-${i}.png`, 64, 3000]),
    );
    await resque.enqueueBulk(
      SendWelcomeEmail,
      Array.from({ length: 140 }, (_, i) => [i, `late${i}@example.com`]),
      {
        queue: 'newsletters',
      },
    );
    await resque.enqueueBulk(ChargeCard, [
      [7, 7000],
      [8, 1400],
    ]);
    const shots: Array<[string, string]> = [
      ['overview', '/overview'],
      ['working', '/working'],
      ['failed', '/failed'],
      ['errors', '/errors'],
      ['queues', '/queues'],
      ['queue', '/queues/newsletters'],
      ['workers', '/workers'],
      ['stats', '/stats/resque'],
      ['keys', '/stats/keys'],
    ];
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [name, path] of shots) {
        await go(path);
        await page.screenshot({ path: `${SCREENSHOTS}${name}-${scheme}.png` });
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await go('/stats/redis');
    await page.screenshot({ path: `${SCREENSHOTS}redis-light.png` });
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [name, path] of [
      ['overview', '/overview'],
      ['working', '/working'],
    ] as const) {
      await go(path);
      await page.screenshot({ path: `${SCREENSHOTS}${name}-phone.png` });
    }
    await page.setViewportSize({ width: 1280, height: 860 });
  });
});
