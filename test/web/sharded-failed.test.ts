// The Failed page of a sharded namespace (`shards: 3`) filtered to one shard: the shard select with each shard's
// failures, pagination and bulk actions that keep the filter, and a 400 for a shard that is not one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/protocol/keys.js';
import { ShardLayout } from '../../src/protocol/shard-layout.js';
import { onCluster, rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { newFailure, writeFailures } from '../integration/failure-helpers.js';
import { type Served, serve } from './client.js';

const url = sharedRedisUrl();
const base = uniqueNamespace('web-shard-failed').replace(/[{}]/g, '');
const layout = new ShardLayout(base, 3);
const redis = rawRedis();
const queueOn = (shard: number): string => {
  for (let n = 0; ; n++) if (layout.shardOf(`work${n}`) === shard) return `work${n}`;
};
const queues = [0, 1, 2].map(queueOn);
const keysOf = (shard: number) => new Keys(layout.namespaces[shard]!);
/** Failures kept on shards 0 and 2 (none on 1): more on 2 than one page holds. */
const ON_SHARD = [3, 0, 25];
let sharded: Served;

beforeAll(async () => {
  if (onCluster) return;
  for (const [shard, n] of ON_SHARD.entries()) {
    await writeFailures(
      redis,
      layout.namespaces[shard]!,
      Array.from({ length: n }, (_, i) =>
        newFailure({
          queue: queues[shard]!,
          className: `Broken${shard}`,
          args: [i],
          failedAt: new Date(Date.UTC(2026, 10, 27, 10, shard, i)),
        }),
      ),
    );
  }
  sharded = await serve({ redis: url, namespace: base, shards: 3 });
});

afterAll(async () => {
  await sharded?.close();
  redis.disconnect();
});

const shardsShown = (text: string) =>
  [...text.matchAll(/badge shard"[^>]*>shard (\d)/g)].map((m) => Number(m[1]));
const hrefs = (text: string, label: string) =>
  [...text.matchAll(/<a [^>]*href="([^"]*)"[^>]*>([^<]*)<\/a>/g)]
    .filter((m) => m[2]!.startsWith(label))
    .map((m) => m[1]!.replaceAll('&amp;', '&'));

describe.skipIf(onCluster)('the Failed page of a sharded namespace filtered by shard', () => {
  it('offers every shard with its failure count, and shows only the chosen shard’s failures', async () => {
    const all = await sharded.client.get('/failed');
    expect(all.status).toBe(200);
    expect(all.text).toContain('<select name="shard">');
    expect(all.text).toMatch(/<option value="" selected>all<\/option>/);
    for (const [shard, n] of ON_SHARD.entries())
      expect(all.text).toContain(`<option value="${shard}">${shard} (${n})</option>`);
    expect(new Set(shardsShown(all.text))).toEqual(new Set([2]));

    const two = await sharded.client.get('/failed?shard=2&order=asc');
    expect(two.status).toBe(200);
    expect(two.text).toContain('<option value="2" selected>2 (25)</option>');
    expect(shardsShown(two.text)).toEqual(Array(20).fill(2));
    const zero = await sharded.client.get('/failed?shard=0');
    expect(shardsShown(zero.text)).toEqual([0, 0, 0]);
    expect(zero.text).toContain('Failed jobs <span class="muted">3 of 28</span>');
  });

  it('keeps the shard in the pagination links', async () => {
    const first = await sharded.client.get('/failed?shard=2');
    const [next] = hrefs(first.text, 'next');
    expect(next).toBeDefined();
    expect(new URL(next!, sharded.base).searchParams.get('shard')).toBe('2');
    const second = await sharded.client.get(next!);
    expect(shardsShown(second.text)).toEqual(Array(5).fill(2));
    expect(hrefs(second.text, '« first').every((h) => h.includes('shard=2'))).toBe(true);
  });

  it('rejects a shard that is not a number or not one of the namespace’s, as it does other bad filters', async () => {
    for (const bad of ['x', '3', '-1', '1.5']) {
      const answer = await sharded.client.get(`/failed?shard=${bad}`);
      expect(answer.status).toBe(400);
      expect(answer.text).toContain(`shard must be from 0 to 2, got &quot;${bad}&quot;`);
    }
    expect((await sharded.client.get('/failed/bulk/retry?shard=9')).status).toBe(400);
    expect((await sharded.client.get('/api/failed?shard=abc')).status).toBe(400);
    const posted = await sharded.client.post('/failed/bulk/clear', { shard: 7 });
    expect(posted.status).toBe(400);
    expect(await redis.llen(keysOf(0).failed)).toBe(3);
    expect(await redis.llen(keysOf(2).failed)).toBe(25);
  });

  it('walks the key browser shard by shard, and rejects a cursor that names no shard of the namespace', async () => {
    const first = await sharded.client.get('/api/keys');
    expect(first.status).toBe(200);
    for (const cursor of ['1@0', '2@0'])
      expect((await sharded.client.get(`/api/keys?cursor=${cursor}`)).status).toBe(200);
    for (const cursor of ['3@0', '9@12', '123', 'x@0', '1@x'])
      expect((await sharded.client.get(`/api/keys?cursor=${encodeURIComponent(cursor)}`)).status).toBe(400);
  });

  it('a bulk retry under the filter retries only that shard’s failures', async () => {
    const page = await sharded.client.get('/failed?shard=2');
    const [retry] = hrefs(page.text, 'Retry matching');
    expect(retry).toBeDefined();
    const clears = hrefs(page.text, 'Clear');
    expect(clears).toHaveLength(2);
    expect(clears.every((h) => h.includes('shard=2'))).toBe(true);
    expect(new URL(retry!, sharded.base).searchParams.get('shard')).toBe('2');
    const confirm = await sharded.client.get(retry!);
    expect(confirm.text).toContain('Retry 25 failed jobs?');
    expect(confirm.text).toContain('shard = <code>2</code>');
    expect(confirm.text).toMatch(/name="shard" value="2"/);

    const done = await sharded.client.post('/failed/bulk/retry', { shard: 2, expected: 25 });
    expect(done.status).toBe(303);
    expect(await redis.llen(keysOf(2).queue(queues[2]!))).toBe(25);
    expect(await redis.llen(keysOf(0).queue(queues[0]!))).toBe(0);
    const retried = await sharded.client.get('/api/failed/count?retried=yes');
    expect(retried.json()).toMatchObject({ count: 25 });
    const zero = await sharded.client.get('/api/failed/count?retried=no&shard=0');
    expect(zero.json()).toMatchObject({ count: 3, filter: { shard: 0 } });
  });

  it('an unsharded dashboard shows no shard filter and ignores ?shard=', async () => {
    const plain = await serve({ redis: url, namespace: layout.namespaces[0]! });
    try {
      const answer = await plain.client.get('/failed?shard=9');
      expect(answer.status).toBe(200);
      expect(answer.text).not.toContain('name="shard"');
      expect(shardsShown(answer.text)).toEqual([]);
      expect(answer.text.match(/<article class="failure/g)?.length).toBe(3);
    } finally {
      await plain.close();
    }
  });
});
