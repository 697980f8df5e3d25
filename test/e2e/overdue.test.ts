// The Overview's alert for overdue delayed jobs, in Chromium: delayed jobs an hour late with no process promoting them
// are announced with their count, their age and what to start; the alert leads to the Delayed tab, and it goes away
// without a reload once a promoter has moved them.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { Promoter } from '../../src/scheduler/promoter.js';
import { type DashboardServer, startDashboardServer } from '../../src/web/index.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { rubyDelayedPush } from '../scheduler/delayed-helpers.js';
import { launchChromium } from './browser.js';

const namespace = uniqueNamespace('e2e-overdue');
const keys = new Keys(namespace);
const redis = rawRedis();
let served: DashboardServer;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
let lateSecond: number;

beforeAll(async () => {
  const [now] = await redis.time();
  lateSecond = Number(now) - 3600;
  for (let n = 0; n < 3; n++)
    await rubyDelayedPush(
      redis,
      namespace,
      lateSecond + (n % 2),
      `{"class":"Late","args":[${n}],"queue":"late"}`,
    );
  served = await startDashboardServer({
    redis: sharedRedisUrl(),
    namespace,
    port: 0,
    pollIntervalMs: 400,
    sampleIntervalMs: 0,
  });
  browser = await launchChromium();
  page = await browser.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.dispose();
  await served?.close();
  redis.disconnect();
});

const go = async (path: string) => {
  const response = await page.goto(`${served.url.replace(/\/$/, '')}${path}`);
  expect(response?.status(), path).toBe(200);
};

describe('overdue delayed jobs', () => {
  it('are announced on the Overview with their count, age and what to start', async () => {
    await go('/overview');
    const alert = page.getByRole('alert');
    expect(await alert.locator('h2').textContent()).toBe('3 delayed jobs are overdue');
    const text = (await alert.textContent())!.replace(/\s+/g, ' ');
    expect(text).toMatch(/The earliest was due 1h [01]m ago \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)/);
    expect(text).toContain(
      'Start resque work (workers promote them unless promoteDelayed is off) or resque scheduler.',
    );
    expect(await alert.locator('time').getAttribute('datetime')).toBe(
      new Date(lateSecond * 1000).toISOString(),
    );
    // Above the figures, where it is seen first (read in one step: the live refresh replaces the content).
    const above = await page.evaluate(
      `document.querySelector('[role="alert"]').getBoundingClientRect().top <
        document.querySelector('.cards').getBoundingClientRect().top`,
    );
    expect(above).toBe(true);
  });

  it('lead to the Delayed tab, which shows the same alert and the late timestamps', async () => {
    await go('/overview');
    await page.getByRole('link', { name: 'See the delayed jobs' }).click();
    await page.waitForURL(/\/delayed$/);
    expect(await page.getByRole('alert').locator('h2').textContent()).toBe('3 delayed jobs are overdue');
    expect(await page.locator('table.grid tbody tr').count()).toBe(2);
  });

  it('go away without a reload once a promoter has moved the jobs', async () => {
    await go('/overview');
    await page.evaluate('window.marker = 7');
    const [now] = await redis.time();
    const promoter = new Promoter({
      redis,
      keys,
      strictPayloads: false,
      logger: createLogger('silent'),
    });
    expect((await promoter.promoteDue(Number(now) * 1000)).moved).toBe(3);
    await expect.poll(() => page.getByRole('alert').count(), { timeout: 15_000, interval: 50 }).toBe(0);
    expect(await page.evaluate('window.marker')).toBe(7);
    expect(await redis.llen(keys.queue('late'))).toBe(3);
  });
});
