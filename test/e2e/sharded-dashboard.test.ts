// The dashboard of a sharded namespace (`shards: 3`) in real headless Chromium, on one redis-server: each shard's
// namespace gets its own queues, failures and a worker (put there directly, as an unsharded client and worker of that
// shard would), and the pages show every shard's with its shard; retrying a failure of shard 1 by clicking acts there.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { ShardLayout } from '../../src/protocol/shard-layout.js';
import { type DashboardServer, startDashboardServer } from '../../src/web/index.js';
import { onCluster, rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { newFailure, writeFailures } from '../integration/failure-helpers.js';
import { registerWorker } from '../web/client.js';
import { launchChromium } from './browser.js';

const url = sharedRedisUrl();
const base = uniqueNamespace('e2e-shards').replace(/[{}]/g, '');
const layout = new ShardLayout(base, 3);
const redis = rawRedis();
const queueOn = (shard: number): string => {
  for (let n = 0; ; n++) if (layout.shardOf(`work${n}`) === shard) return `work${n}`;
};
const queues = [0, 1, 2].map(queueOn);
const DELAYED_AT = 1_900_000_000;
const RETRY_DUE = 1_900_000_000_000;
let served: DashboardServer;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;

beforeAll(async () => {
  if (onCluster) return;
  for (const [shard, namespace] of layout.namespaces.entries()) {
    const resque = new Resque({ redis: url, namespace });
    await resque.enqueueBulk(
      'Mailer',
      Array.from({ length: 3 + shard }, (_, i) => [i]),
      { queue: queues[shard]! },
    );
    // One delayed job per shard, all due in the same second, and one job waiting for its retry.
    await resque.enqueueAtTo(queues[shard]!, new Date(DELAYED_AT * 1000), 'Later', shard);
    await resque.close();
    await redis.zadd(
      new Keys(namespace).retrySet,
      RETRY_DUE + shard,
      `${String(shard).padStart(16, 'r')}\n${queues[shard]}\n{"class":"Again${shard}","args":[${shard}],"attempt":2}`,
    );
    await writeFailures(redis, namespace, [
      newFailure({
        queue: queues[shard]!,
        className: `Broken${shard}`,
        args: [shard],
        failedAt: new Date(Date.now() - (3 - shard) * 60_000),
      }),
    ]);
    await registerWorker(redis, namespace, `shard-host-${shard}:4${shard}:${queues[shard]}`, {
      heartbeat: new Date().toISOString(),
    });
  }
  served = await startDashboardServer({
    port: 0,
    redis: url,
    namespace: base,
    shards: 3,
    sampleIntervalMs: 0,
  });
  browser = await launchChromium();
  page = await browser.newPage();
});

afterAll(async () => {
  await browser?.dispose();
  await served?.close();
  redis.disconnect();
});

const open = async (path: string) => {
  const response = await page.goto(`${served.url.replace(/\/$/, '')}${path}`);
  expect(response?.status()).toBe(200);
};

describe.skipIf(onCluster)('a sharded dashboard in Chromium', () => {
  it('the overview counts every shard’s jobs, failures and workers, and says how many shards', async () => {
    await open('/overview');
    const cards = await page.locator('section.cards').innerText();
    expect(cards).toMatch(/12\s*pending/);
    expect(cards).toMatch(/3\s*failed/);
    expect(cards).toMatch(/3\s*shards/);
    expect(cards).toMatch(/0 \/ 3\s*working/);
  });

  it('the Queues page lists every shard’s queues with a Shard column', async () => {
    await open('/queues');
    const rows = await page.locator('table.queues tbody tr:not(.failed-row)').allInnerTexts();
    const cells = rows.map((row) => row.split('\t').map((cell) => cell.trim()));
    expect(cells.map((c) => [c[0], c[1], c[2]]).sort()).toEqual(
      queues.map((q, shard) => [String(shard), q, String(3 + shard)]).sort(),
    );
    await page.click(`a:text-is("${queues[2]}")`);
    expect(await page.locator('main h1').innerText()).toContain(queues[2]);
    expect(await page.locator('table.jobs tbody tr').count()).toBe(5);
  });

  it('the Workers page lists every shard’s workers, and a worker’s link carries its shard', async () => {
    await open('/workers');
    const rows = await page.locator('table.workers tbody tr').allInnerTexts();
    expect(rows.length).toBe(3);
    const link = page.locator('a:text-is("shard-host-1:41")');
    expect(await link.getAttribute('href')).toContain('shard=1');
    await link.click();
    expect(await page.locator('main').innerText()).toContain(queues[1]);
  });

  it('the Failed page shows every shard’s failures, newest first, and retries one of shard 1 there', async () => {
    await open('/failed');
    const items = page.locator('article.failure');
    expect(await items.count()).toBe(3);
    const headers = await items.locator('header').allInnerTexts();
    expect(headers.map((h) => /Broken\d/.exec(h)?.[0])).toEqual(['Broken2', 'Broken1', 'Broken0']);
    expect(headers.map((h) => /shard \d/.exec(h)?.[0])).toEqual(['shard 2', 'shard 1', 'shard 0']);
    const keys1 = new Keys(layout.namespaces[1]!);
    const before = await redis.llen(keys1.queue(queues[1]!));
    await items.nth(1).locator('button:has-text("Retry")').click();
    await page.waitForLoadState();
    expect(await page.locator('body').innerText()).toContain(`Retried a Broken1 on ${queues[1]}`);
    expect(await redis.llen(keys1.queue(queues[1]!))).toBe(before + 1);
    for (const shard of [0, 2]) {
      const keys = new Keys(layout.namespaces[shard]!);
      expect(await redis.llen(keys.queue(queues[shard]!))).toBe(3 + shard);
    }
    const retried = JSON.parse((await redis.lindex(keys1.failed, 0))!) as Record<string, unknown>;
    expect(retried['retried_at']).toBeDefined();
    // The failure's own page, by its id that carries the shard.
    await items.nth(0).locator('a:text-is("details")').click();
    expect(page.url()).toContain(encodeURIComponent('2@failed:0:'));
    expect(await page.locator('main').innerText()).toContain('Broken2');
  });

  it('the Failed page’s shard select shows one shard’s failures, and its bulk links keep the shard', async () => {
    await open('/failed');
    expect(await page.locator('select[name="shard"] option').allInnerTexts()).toEqual([
      'all',
      '0 (1)',
      '1 (1)',
      '2 (1)',
    ]);
    await page.selectOption('select[name="shard"]', '2');
    await page.click('form.filters button:text-is("Filter")');
    await page.waitForLoadState();
    expect(new URL(page.url()).searchParams.get('shard')).toBe('2');
    const headers = await page.locator('article.failure header').allInnerTexts();
    expect(headers.map((h) => /Broken\d/.exec(h)?.[0])).toEqual(['Broken2']);
    await page.click('a:has-text("Retry matching")');
    expect(await page.locator('main h1').innerText()).toContain('Retry 1 failed job?');
    expect(await page.locator('main').innerText()).toContain('shard = 2');
  });

  it('the Delayed page adds up the shards’ jobs of a second, and queues them all to their own shards', async () => {
    await open('/delayed');
    const row = page.locator('main table tbody tr').first();
    expect(await row.locator('td.num').innerText()).toBe('3');
    await open(`/delayed/${DELAYED_AT}`);
    expect(await page.locator('main h1').innerText()).toContain('3 jobs');
    await page.click('button:text-is("Queue all now")');
    await page.waitForLoadState();
    for (const [shard, queue] of queues.entries()) {
      const keys = new Keys(layout.namespaces[shard]!);
      expect(await redis.lrange(keys.queue(queue), -1, -1)).toEqual([expect.stringContaining('"Later"')]);
    }
  });

  it('the Retries page lists every shard’s waiting jobs, and retries one of shard 2 there', async () => {
    await open('/retries');
    expect(await page.locator('main').innerText()).toContain('3 waiting');
    const row = page.locator('main table tbody tr', { hasText: 'Again2' });
    await row.locator('button:has-text("Retry now")').click();
    await page.waitForLoadState();
    const keys2 = new Keys(layout.namespaces[2]!);
    expect(await redis.zcard(keys2.retrySet)).toBe(0);
    expect(await redis.lrange(keys2.queue(queues[2]!), -1, -1)).toEqual([
      expect.stringContaining('"Again2"'),
    ]);
    expect(await redis.zcard(new Keys(layout.namespaces[1]!).retrySet)).toBe(1);
  });

  it('the key browser walks every shard, each key named with its shard', async () => {
    await open('/stats/keys');
    const seen: string[] = [];
    for (let pages = 0; pages < 20; pages++) {
      seen.push(...(await page.locator('table.keys tbody a').allInnerTexts()));
      const next = page.locator('a[rel="next"]');
      if ((await next.count()) === 0) break;
      await next.click();
    }
    for (const [shard, queue] of queues.entries()) expect(seen).toContain(`${shard}@queue:${queue}`);
    await open(`/stats/keys/${encodeURIComponent(`1@queue:${queues[1]}`)}`);
    expect(await page.locator('main').innerText()).toContain('list');
  });
});
