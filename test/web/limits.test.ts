// Flow control on the dashboard: the Limits section of the Queues page, a queue's pause and limit on its page, the
// limit form (POST with CSRF, checked as the API checks it), and /api/limits.
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { publishClassLimits } from '../../src/limits/definitions.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { type Served, serve } from './client.js';

const redis = rawRedis();
afterAll(() => redis.disconnect());

const Export = defineJob({
  className: 'Export',
  queue: 'exports',
  concurrency: { limit: 1, key: (customer: number) => `customer:${customer}` },
  perform: (_ctx, _customer: number) => {},
});

let keys: Keys;
let web: Served;

beforeEach(async () => {
  keys = new Keys(uniqueNamespace('web-limits'));
  const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
  await publishClassLimits({ redis, keys }, new JobRegistry([Export]));
  for (const customer of [5, 5, 5, 6]) await resque.enqueue(Export, customer);
  await resque.limitQueue('billing', 1);
  for (let i = 0; i < 3; i++) await resque.enqueueTo('billing', 'Invoice', i);
  await resque.pauseQueue('billing');
  await resque.enqueueTo('mail', 'Mailer', 1);
  await resque.limitQueueRate('mail', 10, 60_000);
  await resque.close();
  const fetcher = new Fetcher(
    redis,
    keys,
    new QueuePatterns(['exports']),
    { failureBackend: 'redis', release: 'test' },
    createLogger('silent'),
    () => {},
  );
  await fetcher.reserve(['s1', 's2', 's3']);
  web = await serve({ redis: sharedRedisUrl(), namespace: keys.namespace });
  return () => web.close();
});

describe('the Limits section', () => {
  it('shows each limit with a meter of running against the limit, parked jobs and the busiest keys', async () => {
    const page = await web.client.get('/queues');
    expect(page.status).toBe(200);
    const section = page.text.slice(page.text.indexOf('<section id="limits">'));
    expect(section).toContain('<h2>Limits <span class="muted">2</span></h2>');
    const keyed = section.slice(section.indexOf('data-limit="key:Export"'));
    expect(keyed).toMatch(/class <code>Export<\/code> <span class="muted">per key<\/span>/);
    expect(keyed).toMatch(
      /<code>customer:5<\/code> <meter[^>]*value="1"[^>]*><\/meter> 1 \/ 1 <span class="muted">· 2 parked/,
    );
    expect(keyed).toMatch(/<code>customer:6<\/code> <meter[^>]*value="1"/);
    const queue = section.slice(section.indexOf('data-limit="queue:billing"'));
    expect(queue).toMatch(/href="\/queues\/billing"><code>billing<\/code>/);
    expect(queue).toMatch(/<meter min="0" max="1"[^>]*value="0"[^>]*><\/meter> 0 \/ 1/);
    // The queue list marks billing as paused and limited.
    expect(page.text).toMatch(
      />billing<\/a> <span class="state state-paused">paused<\/span> <span class="state state-limited"[^>]*>limit 1/,
    );
  });

  it('is in the JSON API at /api/limits, with ?keys bounding the keys listed', async () => {
    const answer = await web.client.get('/api/limits');
    expect(answer.status).toBe(200);
    const body = answer.json<{
      limits: Array<{ name: string; running: number; parked: number; keys?: unknown[] }>;
      paused: Array<{ queue: string; pausedAt: string }>;
      partial: boolean;
    }>();
    expect(body.limits.map((l) => [l.name, l.running, l.parked])).toEqual([
      ['key:Export', 2, 2],
      ['queue:billing', 0, 0],
    ]);
    expect(body.paused.map((p) => p.queue)).toEqual(['billing']);
    expect(body.partial).toBe(false);
    const one = (await web.client.get('/api/limits?keys=1')).json<{ limits: Array<{ keys?: unknown[] }> }>();
    expect(one.limits[0]!.keys).toEqual([{ key: 'customer:5', running: 1, parked: 2 }]);
    expect((await web.client.get('/api/limits?keys=x')).status).toBe(400);
  });
});

describe("a queue's page", () => {
  it('says it is paused and limited, and how many of its jobs are parked', async () => {
    await redis.hdel(keys.pausedQueues, 'billing');
    const fetcher = new Fetcher(
      redis,
      keys,
      new QueuePatterns(['billing']),
      { failureBackend: 'redis', release: 'test' },
      createLogger('silent'),
      () => {},
    );
    await fetcher.reserve(['b1', 'b2', 'b3']);
    await redis.hset(keys.pausedQueues, 'billing', String(Date.now()));
    const page = await web.client.get('/queues/billing');
    expect(page.text).toMatch(/Paused <time[^>]*>\d+s ago<\/time>: no resque-ts worker takes its jobs/);
    expect(page.text).toMatch(
      /state-limited">limited<\/span> at most 1 of its jobs run at once · <strong>2<\/strong> parked/,
    );
    expect(page.text).toContain('>Change limit</button>');
    expect(page.text).toContain('>Remove limit</button>');
    const plain = await web.client.get('/queues/mail');
    expect(plain.text).not.toContain('state-limited');
    expect(plain.text).toContain('>Set limit</button>');
  });

  it('sets, changes and removes the limit with POSTs carrying the CSRF token', async () => {
    const set = await web.client.post('/queues/mail/limit', { limit: '4' });
    expect(set.status).toBe(303);
    expect(set.headers.get('location')).toBe('/queues/mail');
    expect(await redis.hget(keys.limits, 'queue:mail')).toBe('4');
    const page = await web.client.get('/queues/mail');
    expect(page.text).toContain('At most 4 jobs of mail run at once.');
    expect(page.text).toMatch(/name="limit" type="number"[^>]*value="4"/);

    const removed = await web.client.post('/queues/mail/unlimit', {});
    expect(removed.status).toBe(303);
    expect(await redis.hexists(keys.limits, 'queue:mail')).toBe(0);
    expect((await web.client.get('/queues/mail')).text).toContain('Removed the limit of mail.');

    expect((await web.client.post('/queues/mail/limit', { limit: '2', _csrf: '' })).status).toBe(403);
    expect(await redis.hexists(keys.limits, 'queue:mail')).toBe(0);
  });

  it('refuses a bad limit with 400 and changes nothing', async () => {
    for (const bad of ['0', '-1', '2.5', 'many', '']) {
      const answer = await web.client.post('/queues/mail/limit', { limit: bad });
      expect(answer.status).toBe(400);
      expect(answer.text).toContain('must be a whole number of 1 or more');
    }
    expect(await redis.hexists(keys.limits, 'queue:mail')).toBe(0);
  });

  it('limits and unlimits through the JSON API with the CSRF header', async () => {
    const token = await web.client.csrf();
    const headers = { 'content-type': 'application/json', 'x-csrf-token': token };
    const set = await web.client.send('POST', '/api/queues/mail/limit', '{"limit":2}', headers);
    expect(set.json()).toEqual({ queue: 'mail', limit: 2 });
    expect(await redis.hget(keys.limits, 'queue:mail')).toBe('2');
    const bad = await web.client.send('POST', '/api/queues/mail/limit', '{"limit":0}', headers);
    expect(bad.status).toBe(400);
    expect(bad.json<{ error: { code: string } }>().error.code).toBe('CONFIG_INVALID');
    const removed = await web.client.send('POST', '/api/queues/mail/unlimit', '', headers);
    expect(removed.json()).toEqual({ queue: 'mail', limit: null, changed: true });
  });
});

describe('rate limits on the Queues page', () => {
  it('lists each with its starts in the window and its parked jobs, and in /api/limits', async () => {
    const page = await web.client.get('/queues');
    expect(page.text).toContain('Rate limits');
    expect(page.text).toMatch(/data-rate="queue:mail"[\s\S]*?per 1 min/);
    const api = (await web.client.get('/api/limits')).json<{
      rates: Array<{ name: string; limit: number }>;
    }>();
    expect(api.rates).toEqual([expect.objectContaining({ name: 'queue:mail', limit: 10, windowMs: 60_000 })]);
  });
});
