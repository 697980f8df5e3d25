// The Retries page and its JSON API: jobs waiting in `ts:retry`, escaped, a page at a time, with "retry now" and
// "remove" by the ref each row carries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { type Served, serve } from './client.js';

const namespace = uniqueNamespace('web-retries');
const redis = rawRedis();
const keys = new Keys(namespace);
const DUE = 1_900_000_000_000;
let web: Served;

const error = {
  attempt: 2,
  failed_at: '2026/11/27 22:09:46 UTC',
  exception: 'TypeError',
  error: '<script>no</script>',
  backtrace: ['/app/a.js:1'],
};
const member = (n: number, queue = 'mail') =>
  `${String(n).padStart(16, 'a')}\n${queue}\n{"class":"Remind","args":[${n},"<b>x</b>"],"id":"id${n}","attempt":3,"attempts":5,"errors":[${JSON.stringify(error)}]}`;

beforeAll(async () => {
  await redis.zadd(keys.retrySet, DUE + 2, member(2), DUE + 1, member(1), DUE + 3, member(3, 'other'));
  web = await serve({ redis: sharedRedisUrl(), namespace, pageSize: 2 });
});
afterAll(async () => {
  await web.close();
  redis.disconnect();
});

interface ApiPage {
  total: number;
  jobs: Array<{
    ref: string;
    queue: string;
    dueAtMs: number;
    className: string;
    attempt: number;
    id: string;
  }>;
}

describe('the Retries page', () => {
  it('lists waiting jobs earliest due first, escaped, with the next attempt and the last error', async () => {
    const answer = await web.client.get('/retries');
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('3 waiting');
    expect(answer.text).toContain('&lt;script&gt;no&lt;/script&gt;');
    expect(answer.text).not.toContain('<script>no</script>');
    expect(answer.text).not.toContain('<b>x</b>');
    expect(answer.text).toContain('Retry now');
    expect(answer.text).toContain('<td class="num">3 of 5</td>');
    expect(answer.text).toContain('rel="next"');
  });

  it('the API pages through them, and acts on one by its ref', async () => {
    const first = (await web.client.get('/api/retries')).json<ApiPage>();
    expect(first.total).toBe(3);
    expect(first.jobs.map((j) => [j.id, j.queue, j.dueAtMs, j.attempt])).toEqual([
      ['id1', 'mail', DUE + 1, 3],
      ['id2', 'mail', DUE + 2, 3],
    ]);
    const second = (await web.client.get('/api/retries?start=2')).json<ApiPage>();
    expect(second.jobs.map((j) => j.id)).toEqual(['id3']);

    const [one, two] = first.jobs;
    expect((await web.client.post('/retries/retry-now', { ref: one!.ref })).status).toBe(303);
    expect(await redis.lrange(keys.queue('mail'), 0, -1)).toEqual([member(1).split('\n')[2]]);
    expect(await redis.sismember(keys.queues, 'mail')).toBe(1);
    const again = await web.client.post('/api/retries/retry-now', { ref: one!.ref });
    expect(again.status).toBe(404);

    const removed = await web.client.post('/api/retries/remove', { ref: two!.ref });
    expect(removed.json()).toEqual({ removed: true });
    expect(await redis.zrange(keys.retrySet, 0, -1)).toEqual([member(3, 'other')]);
    expect((await web.client.post('/retries/remove', {})).status).toBe(400);
  });

  it('the overview counts them', async () => {
    const overview = (await web.client.get('/api/overview')).json<{ retrying: number }>();
    expect(overview.retrying).toBe(1);
  });
});
