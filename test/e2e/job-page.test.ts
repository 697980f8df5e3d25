// A job's page in real headless Chromium, and its JSON API (GET /api/jobs/:id), against a real Redis and worker: a
// tracked job from running (with progress) to completed with its result, updating without a reload; a retried one
// with its attempts and errors, reached from the Retries page; hostile results shown as text; a running job cancelled
// behind the confirmation step.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob, Resque } from '../../src/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { moveRetries } from '../../src/scheduler/retry-promotion.js';
import { Worker } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { type Served, serve } from '../web/client.js';
import { launchChromium } from './browser.js';

const url = sharedRedisUrl();
const namespace = uniqueNamespace('e2e-job');
const keys = new Keys(namespace);
const redis = rawRedis();
let release: () => void = () => {};
const released = new Promise<void>((resolve) => {
  release = resolve;
});

const Export = defineJob({
  className: 'Export',
  queue: 'q',
  status: true,
  perform: async (ctx, name: string) => {
    ctx.progress({ rows: 40, of: 100 });
    await released;
    return { file: `${name}.csv`, note: '<img src=x onerror=alert(1)>' };
  },
});

const Unlucky = defineJob({
  className: 'Unlucky',
  queue: 'q',
  status: true,
  attempts: 3,
  backoff: { type: 'fixed', delayMs: 3_600_000 },
  perform: async (ctx) => {
    throw new Error(`<b>attempt ${ctx.attempt}</b> went wrong`);
  },
});

/** Runs until its AbortSignal fires (a cancel), then stops with the signal's reason. */
const Cancellable = defineJob({
  className: 'Cancellable',
  queue: 'q',
  status: true,
  perform: async (ctx) => {
    ctx.progress('started');
    await new Promise((_resolve, reject) =>
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }),
    );
  },
});

const jobs = [Export, Unlucky, Cancellable];
const resque = new Resque({ redis: url, namespace, jobs });
let worker: Worker;
let web: Served;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;

beforeAll(async () => {
  worker = new Worker({
    redis: url,
    namespace,
    jobs,
    queues: ['q'],
    concurrency: 2,
    intervalMs: 200,
    setProcessTitle: false,
    logger: createLogger('silent'),
  });
  await worker.start();
  web = await serve({ redis: url, namespace, pollIntervalMs: 300 });
  browser = await launchChromium();
  page = await browser.newPage();
}, 60_000);

afterAll(async () => {
  release();
  await browser?.dispose();
  await web?.close();
  await worker?.stop('term');
  await resque.close();
  redis.disconnect();
});

const eventually = <T>(probe: () => T | Promise<T>) => expect.poll(probe, { timeout: 15_000, interval: 50 });
const state = () => page.locator('[data-job-state]').getAttribute('data-job-state');

describe('the job page', () => {
  it('follows a tracked job from running with its progress to completed with its result, without a reload', async () => {
    const { id } = (await resque.enqueue(Export, 'june'))!;
    await waitFor(async () => (await redis.hget(keys.jobStatus(id!), 'progress')) !== null);
    const response = await page.goto(`${web.base}/jobs/${id}`);
    expect(response?.status()).toBe(200);
    expect(await state()).toBe('running');
    const main = page.locator('main');
    expect(await main.textContent()).toContain('"rows": 40');
    expect(await main.textContent()).toContain(worker.slotIds[0]);
    // A job that has not ended can be cancelled, behind the confirmation step.
    const cancel = page.locator(`[data-job-actions="${id}"] a`, { hasText: 'Cancel…' });
    expect(await cancel.getAttribute('href')).toBe(`/jobs/${id}/cancel?back=%2Fjobs%2F${id}`);

    const api = await fetch(`${web.base}/api/jobs/${id}`);
    expect(api.status).toBe(200);
    const story = (await api.json()) as { status: { state: string; source: string; progress: unknown } };
    expect(story.status).toMatchObject({
      state: 'running',
      source: 'record',
      progress: { rows: 40, of: 100 },
    });

    release();
    await eventually(state).toBe('completed');
    const text = await main.textContent();
    expect(text).toContain('june.csv');
    // The result is shown as text: nothing of it became an element.
    expect(text).toContain('<img src=x onerror=alert(1)>');
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.locator(`[data-job-actions="${id}"] a`).count()).toBe(0);
  });

  it("shows a retried job's attempts and errors, reached from the Retries page", async () => {
    const { id } = (await resque.enqueue(Unlucky))!;
    await waitFor(async () => (await redis.hget(keys.jobStatus(id!), 'state')) === 'retrying');
    // Its second attempt, at once: the page then shows the first attempt's error from the payload's history.
    // The record says retrying before the worker files the retry (its next run must not find an older record).
    const [member, score] = await waitFor(async () => {
      const head = await redis.zrange(keys.retrySet, 0, 0, 'WITHSCORES');
      return head.length === 2 ? head : undefined;
    });
    expect(await moveRetries({ redis, keys }, [member!], Number(score))).toBe(1);
    await waitFor(async () => (await redis.hget(keys.jobStatus(id!), 'attempt')) === '2');
    await waitFor(async () => (await redis.hget(keys.jobStatus(id!), 'state')) === 'retrying');
    await page.goto(`${web.base}/retries`);
    await page.click(`a[href$="/jobs/${id}"]`);
    await eventually(() => page.url()).toBe(`${web.base}/jobs/${id}`);
    expect(await state()).toBe('retrying');
    const attempts = page.locator('.job-attempts');
    const text = await attempts.textContent();
    expect(text).toContain('<b>attempt 1</b> went wrong');
    expect(text).toContain('<b>attempt 2</b> went wrong');
    expect(await attempts.locator('b').count()).toBe(0);
  });

  it('says why a queued job waits: its queue is paused, and no worker takes from it', async () => {
    await resque.pauseQueue('held');
    const job = await resque.enqueueTo('held', Export, 'waiting');
    await page.goto(`${web.base}/jobs/${job!.id}`);
    expect(await state()).toBe('queued');
    const reasons = page.locator('.job-waiting li');
    expect(await reasons.evaluateAll((items) => items.map((li) => li.getAttribute('data-wait')))).toEqual([
      'queue-paused',
      'no-worker',
      'queue-backlog',
    ]);
    expect(await page.locator('.job-waiting').textContent()).toContain('its queue is paused');
    const api = (await (await fetch(`${web.base}/api/jobs/${job!.id}`)).json()) as { waiting: unknown[] };
    expect(api.waiting).toHaveLength(3);
  });

  it('cancels a running job behind the confirmation step, and follows it to cancelled', async () => {
    const failedBefore = await redis.llen(keys.failed);
    const job = await resque.enqueue(Cancellable);
    const id = job!.id!;
    await waitFor(async () => (await resque.status(id)).state === 'running', 15_000, 'the job to run');
    await page.goto(`${web.base}/jobs/${id}`);
    expect(await state()).toBe('running');
    // "Keep it" leaves it running.
    await page.click('text=Cancel…');
    await eventually(() => page.locator('h1').textContent()).toBe(`Cancel job ${id}?`);
    await page.click('text=Keep it');
    await eventually(state).toBe('running');
    expect((await resque.status(id)).state).toBe('running');

    await page.click('text=Cancel…');
    await eventually(() => page.locator('h1').textContent()).toBe(`Cancel job ${id}?`);
    await page.click('button:has-text("Cancel job")');
    await eventually(() => page.locator('.notice').first().textContent()).toContain(`Cancelling job ${id}`);
    await page.goto(`${web.base}/jobs/${id}`);
    await eventually(state).toBe('cancelled');
    expect(await page.locator('text=Cancel…').count()).toBe(0);
    expect(await resque.status(id)).toMatchObject({ state: 'cancelled', source: 'record' });
    expect(await redis.llen(keys.failed)).toBe(failedBefore);
  });

  it('answers 404 in the API, and says so on the page, for an id nothing is known of', async () => {
    const api = await fetch(`${web.base}/api/jobs/nothing-here`);
    expect(api.status).toBe(404);
    expect(((await api.json()) as { status: { state: string } }).status.state).toBe('unknown');
    await page.goto(`${web.base}/jobs/nothing-here`);
    expect(await state()).toBe('unknown');
    expect(await page.locator('main').textContent()).toContain('No status record');
  });
});
