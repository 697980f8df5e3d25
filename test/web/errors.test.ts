// Error pages: Redis down (and back), unknown queue, failure, worker, key, route, bad parameters; pages for
// people, {"error":{"code","message"}} for the API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { freePort, startRedis } from '../harness/redis-server.js';
import { type Served, serve } from './client.js';

describe('Redis down', () => {
  it('shows resque-web\'s "Can\'t connect to Redis" page (503), keeps polling, and recovers when Redis is back', async () => {
    const server = await startRedis();
    const web = await serve({
      redis: server.url,
      namespace: uniqueNamespace('web-down'),
      pollIntervalMs: 500,
    });
    try {
      expect((await web.client.get('/overview')).status).toBe(200);
      await server.stop();
      for (const path of ['/overview', '/queues', '/failed', '/workers', '/stats/keys', '/errors']) {
        const page = await web.client.get(path);
        expect(page.status, path).toBe(503);
        expect(page.text).toContain('Can&#39;t connect to Redis');
        expect(page.text).toContain('data-live="1"');
      }
      const api = await web.client.get('/api/overview');
      expect(api.status).toBe(503);
      expect(api.json()).toMatchObject({ error: { code: 'REDIS_CONNECTION' } });
      await server.restart();
      await waitFor(async () => (await web.client.get('/overview')).status === 200, 15_000, 'recovery');
    } finally {
      await web.close();
      await server.stop();
    }
  });

  it('never hangs on a dashboard pointed at nothing', async () => {
    const web = await serve({ redis: `redis://127.0.0.1:${await freePort()}`, namespace: 'x' });
    try {
      expect((await web.client.get('/overview')).status).toBe(503);
    } finally {
      await web.close();
    }
  });
});

describe('unknown things', () => {
  let web: Served;
  beforeAll(async () => {
    web = await serve({ redis: sharedRedisUrl(), namespace: uniqueNamespace('web-errors') });
  });
  afterAll(() => web.close());

  it.each([
    ['/queues/nope', 'QUEUE_NOT_FOUND'],
    ['/queues/nope/remove', 'QUEUE_NOT_FOUND'],
    ['/failure/failed:3:0123456789', 'FAILURE_NOT_FOUND'],
    ['/failure/garbage', 'FAILURE_NOT_FOUND'],
    ['/workers/h:1:q', 'NOT_FOUND'],
    ['/working/h:1:q', 'NOT_FOUND'],
    ['/stats/keys/nope', 'NOT_FOUND'],
    ['/no/such/page', 'NOT_FOUND'],
    ['/failed/bulk/explode', 'NOT_FOUND'],
  ])('%s answers 404 with %s', async (path, code) => {
    const page = await web.client.get(path);
    expect(page.status).toBe(404);
    expect(page.text).toContain(code);
    expect(page.text).toContain('<h1>Not found</h1>');
  });

  it('answers the API in JSON', async () => {
    const answer = await web.client.get('/api/queues/nope');
    expect(answer.status).toBe(404);
    expect(answer.json()).toEqual({ error: { code: 'QUEUE_NOT_FOUND', message: 'No queue "nope"' } });
  });

  it('rejects bad parameters with 400', async () => {
    expect((await web.client.get('/failed?start=-1')).status).toBe(400);
    expect((await web.client.get('/failed?limit=abc')).status).toBe(400);
    expect((await web.client.get('/failed?retried=maybe')).status).toBe(400);
    const big = await web.client.send('POST', '/api/queues/x/remove', 'x'.repeat(70_000), {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(big.status).toBe(400);
    const json = await web.client.send('POST', '/api/queues/x/remove', '{not json', {
      'content-type': 'application/json',
    });
    expect(json.status).toBe(400);
  });
});
