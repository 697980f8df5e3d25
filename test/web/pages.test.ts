// Every page of the dashboard, in-process over real HTTP against a real Redis: what each shows, and that the counts
// are the ones Ruby's resque-web reads from the same keys (queues, failed, workers, stat:*).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { type Served, serve } from './client.js';
import { seed } from './fixture.js';

const namespace = uniqueNamespace('web-pages');
const redis = rawRedis();
const keys = new Keys(namespace);
let web: Served;

beforeAll(async () => {
  await seed(redis, sharedRedisUrl(), namespace);
  web = await serve({ redis: sharedRedisUrl(), namespace });
});
afterAll(async () => {
  await web.close();
  redis.disconnect();
});

const page = async (path: string) => {
  const answer = await web.client.get(path);
  expect(answer.status, `${path}: ${answer.text.slice(0, 300)}`).toBe(200);
  expect(answer.headers.get('content-type')).toMatch(/text\/html/);
  return answer.text;
};

describe('overview and working', () => {
  it('redirects / to /overview', async () => {
    const answer = await web.client.get('/');
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/overview');
  });

  it('shows the counts resque-web reads: queue sizes, LLEN failed, stat:processed, workers working', async () => {
    const text = await page('/overview');
    const overview = (await web.client.get('/api/overview')).json<{
      processed: number;
      queues: Array<{ name: string; size: number }>;
      failureLists: Array<{ list: string; count: number }>;
      workers: Array<{ id: string; state: string; health: string }>;
    }>();
    expect(overview.processed).toBe(Number(await redis.get(keys.processed)));
    expect(overview.failureLists).toEqual([{ list: 'failed', count: await redis.llen(keys.failed) }]);
    const names = (await redis.smembers(keys.queues)).sort();
    expect(overview.queues.map((q) => q.name)).toEqual(names);
    for (const q of overview.queues) expect(q.size).toBe(await redis.llen(keys.queue(q.name)));
    const ids = await redis.smembers(keys.workers);
    const busy = (await redis.mget(ids.map((id) => keys.worker(id)))).filter(Boolean).length;
    expect(overview.workers.filter((w) => w.state === 'working')).toHaveLength(busy);
    expect(text).toContain('1,234');
    expect(text).toMatch(/<span class="value">47<\/span><span class="label">pending/);
    expect(text).toMatch(/<span class="value">31<\/span><span class="label">failed/);
    expect(text).toContain('Throughput');
    expect(text).toContain('data-live="1"');
  });

  it('lists running jobs on /working, longest first, with the stuck one flagged', async () => {
    const text = await page('/working');
    expect(text).toContain('2 of 4 workers working');
    expect(text.indexOf('Export')).toBeLessThan(text.indexOf('busy@example.com'));
    expect(text).toMatch(/state-stuck/);
  });

  it('shows one running job on /working/<id> and 404s for an unknown worker', async () => {
    const text = await page(`/working/${encodeURIComponent('web-1:100:mail')}`);
    expect(text).toContain('busy@example.com');
    expect((await web.client.get('/working/nope:1:x')).status).toBe(404);
  });

  it('serves stats.txt like resque-web', async () => {
    const answer = await web.client.get('/stats.txt');
    expect(answer.text).toContain('resque.pending=47\n');
    expect(answer.text).toContain('resque.processed+=1234\n');
    expect(answer.text).toContain('resque.failed+=31\n');
    expect(answer.text).toContain('resque.workers=4\n');
    expect(answer.text).toContain('resque.working=2\n');
    expect(answer.text).toContain('queues.mail=46\n');
  });
});

describe('queues', () => {
  it('lists queues with sizes and the failed row', async () => {
    const text = await page('/queues');
    expect(text).toMatch(/href="\/queues\/mail">mail<\/a><\/td>\s*<td class="num">46</);
    expect(text).toMatch(/href="\/failed">failed<\/a>/);
  });

  it('pages a queue 20 at a time from the head', async () => {
    const first = await page('/queues/mail');
    expect(first).toContain('1–20 of 46');
    expect(first).toContain('user0@example.com');
    const third = await page('/queues/mail?start=40');
    expect(third).toContain('41–46 of 46');
    expect(third).toContain('Cleanup');
    expect(third).not.toContain('user0@example.com');
    const api = (await web.client.get('/api/queues/mail?start=40&limit=3')).json<{
      page: { jobs: unknown[] };
    }>();
    expect(api.page.jobs).toHaveLength(3);
  });

  it("shows ActiveJob's wrapped job class, as resque-web does", async () => {
    await redis.rpush(
      keys.queue('rails'),
      '{"class":"ActiveJob::QueueAdapters::ResqueAdapter::JobWrapper","args":[{"job_class":"SendInvoiceJob","arguments":[5]}]}',
    );
    await redis.sadd(keys.queues, 'rails');
    const text = await page('/queues/rails');
    expect(text).toContain(
      '<code title="ActiveJob::QueueAdapters::ResqueAdapter::JobWrapper">SendInvoiceJob</code>',
    );
    await redis.srem(keys.queues, 'rails');
    await redis.del(keys.queue('rails'));
  });

  it('searches a queue by class and by argument text', async () => {
    const byClass = await page('/queues/mail?class=Cleanup');
    expect(byClass).toContain('[&quot;tmp&quot;]');
    expect(byClass).not.toContain('user1@example.com');
    const byArgs = (await web.client.get('/api/queues/mail/count?args=USER4')).json<{ matched: number }>();
    expect(byArgs.matched).toBe(6); // user4, user40…user44
  });
});

describe('workers', () => {
  it('shows hosts as sub-tabs, the stuck and the dead', async () => {
    const text = await page('/workers');
    expect(text).toContain('/workers/web-1');
    expect(text).toContain('/workers/web-2');
    expect(text).toMatch(/state-dead/);
    expect(text).toMatch(/state-stuck/);
    expect(text).toContain('2 stuck or dead');
  });

  it('shows one host, all workers, and one worker in detail', async () => {
    const host = await page('/workers/web-2');
    expect(host).toContain('web-2:200');
    expect(host).not.toContain('web-1:100');
    expect(await page('/workers/all')).toContain('web-1:101');
    const one = await page(`/workers/${encodeURIComponent('web-1:100:mail')}`);
    expect(one).toMatch(/<th>Processed<\/th><td data-counter="processed">40<\/td>/);
    expect(one).toMatch(/<th>Failed<\/th><td data-counter="failed">3<\/td>/);
    expect(one).toContain('busy@example.com');
    expect((await web.client.get('/workers/nohost')).status).toBe(404);
    const api = (await web.client.get(`/api/workers/${encodeURIComponent('web-2:201:*')}`)).json();
    expect(api).toMatchObject({ id: 'web-2:201:*', health: 'dead' });
  });
});

describe('failed and errors', () => {
  it('pages failures newest first with backtraces, retry and remove buttons', async () => {
    const text = await page('/failed');
    expect(text).toContain('Failed jobs <span class="muted">31');
    expect(text).toContain('<details class="backtrace">');
    expect(text).toContain('/app/jobs/archive.js:12:5');
    expect((text.match(/action="\/failed\/retry"/g) ?? []).length).toBe(20);
    expect(text).toContain('rel="next"');
    const page2 = (await web.client.get('/api/failed?start=20')).json<{
      failures: unknown[];
      hasMore: boolean;
    }>();
    expect(page2.failures).toHaveLength(11);
    expect(page2.hasMore).toBe(false);
  });

  it('filters by queue, class, argument text and error text', async () => {
    const count = async (query: string) =>
      (await web.client.get(`/api/failed/count?${query}`)).json<{ count: number }>().count;
    expect(await count('class=Export')).toBe(10);
    expect(await count('queue=hostile')).toBe(1);
    expect(await count('args=user1')).toBe(8);
    expect(await count('error=TIMED%20OUT')).toBe(10);
    expect(await count('error=timeouterror')).toBe(10);
    const text = await page('/failed?class=Export');
    expect(text).toContain('upstream timed out');
    expect(text).not.toContain('mailbox full');
  });

  it('shows one failure, and 404s for an unknown one', async () => {
    const { failures } = (await web.client.get('/api/failed?limit=1')).json<{
      failures: Array<{ id: string }>;
    }>();
    const text = await page(`/failure/${encodeURIComponent(failures[0]!.id)}`);
    expect(text).toContain('Stored record');
    const missing = await web.client.get('/failure/failed:0:0123456789');
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('FAILURE_NOT_FOUND');
  });

  it('shows per-queue failure lists (RedisMultiQueue layout) as sub-tabs', async () => {
    const ns = uniqueNamespace('web-multi');
    const { newFailure, writeFailures } = await import('../integration/failure-helpers.js');
    await writeFailures(
      redis,
      ns,
      [newFailure({ queue: 'a' }), newFailure({ queue: 'b' }), newFailure({ queue: 'b' })],
      {
        backend: 'redis_multi_queue',
      },
    );
    const multi = await serve({ redis: sharedRedisUrl(), namespace: ns });
    try {
      const all = await multi.client.get('/failed');
      expect(all.text).toContain('/failed/a_failed');
      expect(all.text).toContain('/failed/b_failed');
      const one = await multi.client.get('/failed/b_failed');
      expect(one.text).toContain('Failed jobs <span class="muted">2 of 3');
      expect((await multi.client.get('/failed/nope')).status).toBe(404);
      const queues = await multi.client.get('/queues');
      expect(queues.text).toMatch(/b_failed<\/a><\/td>\s*<td class="num bad-text">2</);
    } finally {
      await multi.close();
    }
  });

  it('lists error groups with counts, first release and links to their failures', async () => {
    const text = await page('/errors');
    expect(text).toContain('TimeoutError');
    expect(text).toContain('upstream timed out after &lt;n&gt; ms');
    expect(text).toContain('test-1');
    const api = (await web.client.get('/api/errors?order=count')).json<{
      groups: Array<{ id: string; count: number }>;
    }>();
    expect(api.groups[0]!.count).toBe(20);
    const group = await page(`/failed?group=${api.groups[0]!.id}`);
    expect(group).toContain('mailbox full');
    expect(group).not.toContain('upstream timed out');
  });
});

describe('stats', () => {
  it('shows Resque info, charts and queue latency', async () => {
    const text = await page('/stats/resque?window=6h');
    expect(text).toMatch(/<th>processed<\/th><td>1,234<\/td>/);
    expect(text).toContain('Backlog');
    expect(text).toContain('Queue latency');
    expect((await web.client.get('/stats')).headers.get('location')).toBe('/stats/resque');
  });

  it('shows the main Redis figures, then INFO by section, folded', async () => {
    const text = await page('/stats/redis');
    expect(text).toMatch(/<dt>Version<\/dt><dd>\d+\.\d+/);
    expect(text).toMatch(/<dt>Memory<\/dt><dd>[\d.]+[KMG]?B?/);
    expect(text).toContain('<details class="info-section"><summary>Server');
    expect(text).toContain('redis_version');
  });

  it("shows job arguments as stored (Ruby's 1.0, integers beyond 2^53) in list views", async () => {
    await redis
      .pipeline()
      .sadd(keys.queues, 'ruby-numbers')
      .rpush(keys.queue('ruby-numbers'), '{"class":"Ruby","args":[1.0, 9007199254740993]}')
      .exec();
    expect(await page('/queues/ruby-numbers')).toContain('[1.0,9007199254740993]');
  });

  it('browses the namespace keys with SCAN, page by page, and each key type', async () => {
    const first = (await web.client.get('/api/keys')).json<{
      keys: Array<{ name: string; type: string }>;
      cursor: string;
    }>();
    const seen = new Map(first.keys.map((k) => [k.name, k.type]));
    let cursor = first.cursor;
    while (cursor !== '0') {
      const next = (await web.client.get(`/api/keys?cursor=${cursor}`)).json<typeof first>();
      for (const k of next.keys) seen.set(k.name, k.type);
      cursor = next.cursor;
    }
    expect(seen.get('queues')).toBe('set');
    expect(seen.get('queue:mail')).toBe('list');
    expect(seen.get('workers:heartbeat')).toBe('hash');
    expect(seen.get('stat:processed')).toBe('string');
    expect(seen.get('ts:failure-groups')).toBe('zset');
    expect(await page('/stats/keys')).toContain('read with SCAN');
    expect(await page('/stats/keys/queue%3Amail?start=20')).toContain('user20@example.com');
    expect(await page('/stats/keys/queues')).toContain('hostile');
    expect(await page('/stats/keys/workers%3Aheartbeat')).toContain('web-1:100:mail');
    expect(await page('/stats/keys/ts%3Afailure-groups')).toContain('Score');
    expect(await page('/stats/keys/stat%3Aprocessed')).toContain('1234');
    expect((await web.client.get('/stats/keys/nope')).status).toBe(404);
  });

  it('documents its JSON API at /api', async () => {
    const api = (await web.client.get('/api')).json<{ endpoints: Record<string, string> }>();
    expect(Object.keys(api.endpoints)).toContain('GET /api/overview');
  });
});
