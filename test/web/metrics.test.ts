// GET /metrics: the namespace's gauges for Prometheus, read through the admin model at each scrape, behind the
// dashboard's auth like every page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob, Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { sample } from '../harness/prometheus.js';
import { registerWorker, type Served, serve } from './client.js';

const namespace = uniqueNamespace('web-metrics');
const keys = new Keys(namespace);
const redis = rawRedis();
const TOKEN = 'scrape-token-0123456789';
let web: Served;
let resque: Resque;

const Mail = defineJob({ className: 'Mail', queue: 'mail', perform: async (_ctx, _n: number) => {} });

beforeAll(async () => {
  resque = new Resque({ redis: sharedRedisUrl(), namespace });
  await resque.enqueueBulk(Mail, [[1], [2]]);
  await resque.enqueueTo('reports', 'Report', 1);
  await resque.enqueueIn(3_600_000, Mail, 3);
  await redis.set(keys.processed, '10');
  await redis.set(keys.failedCount, '2');
  await redis.rpush(keys.failed, JSON.stringify({ failed_at: '2026/11/27 10:00:00 UTC', payload: {} }));
  await registerWorker(redis, namespace, 'web-1:100:mail', {
    job: { queue: 'mail', runAt: '2026-11-27T10:00:00Z', payload: '{"class":"Mail","args":[0]}' },
  });
  await registerWorker(redis, namespace, 'web-1:101:mail');
  web = await serve({ redis: sharedRedisUrl(), namespace, auth: { token: TOKEN } });
});
afterAll(async () => {
  await web.close();
  await resque.close();
  redis.disconnect();
});

describe('GET /metrics', () => {
  it('answers 401 without credentials, as every page does', async () => {
    const answer = await web.client.get('/metrics');
    expect(answer.status).toBe(401);
    expect(answer.text).not.toContain('resque_');
  });

  it('serves queue sizes and ages, workers, counters, failures and delayed jobs to a Bearer token', async () => {
    const { status, headers, text } = await web.client.get('/metrics', { authorization: `Bearer ${TOKEN}` });
    expect(status).toBe(200);
    expect(headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(text, 'resque_queue_size', { queue: 'mail' })).toBe(2);
    expect(sample(text, 'resque_queue_size', { queue: 'reports' })).toBe(1);
    expect(sample(text, 'resque_queue_oldest_job_age_seconds', { queue: 'mail' })).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'resque_workers')).toBe(2);
    expect(sample(text, 'resque_workers_working')).toBe(1);
    expect(sample(text, 'resque_processed_total')).toBe(10);
    expect(sample(text, 'resque_failed_total')).toBe(2);
    expect(sample(text, 'resque_failures')).toBe(1);
    expect(sample(text, 'resque_delayed_jobs')).toBe(1);
    expect(sample(text, 'resque_delayed_timestamps')).toBe(1);
    expect(sample(text, 'resque_delayed_lateness_seconds')).toBe(0);
  });

  it('reads afresh at each scrape: a removed queue leaves no series behind', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect(
      sample((await web.client.get('/metrics', auth)).text, 'resque_queue_size', { queue: 'reports' }),
    ).toBe(1);
    await web.dashboard.admin.removeQueue('reports');
    const { text } = await web.client.get('/metrics', auth);
    expect(sample(text, 'resque_queue_size', { queue: 'reports' })).toBeUndefined();
    expect(sample(text, 'resque_queue_size', { queue: 'mail' })).toBe(2);
  });
});
