// No input makes the dashboard answer 5xx: every route the router knows (taken from the router, so later pages are
// walked too) against Redis data of the wrong type, huge values, hostile cursors, queries and form fields.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { registerWorker, type Served, serve } from './client.js';
import { HOSTILE, seed } from './fixture.js';
import { HOSTILE_QUERIES, type ParamValues, walkRoutes } from './walk.js';

const redis = rawRedis();
afterAll(() => redis.disconnect());

const BAD_WORKER = 'bad-host:9:hashq';
const HUGE = 'h'.repeat(2 * 1024 * 1024);

/** Per-item damage: single queues and one worker's keys of the wrong type, huge values, next to healthy data. */
async function damageItems(keys: Keys): Promise<void> {
  await redis
    .pipeline()
    .sadd(keys.queues, 'hashq', 'strq', 'zq', 'huge', HOSTILE[0]!)
    .hset(keys.queue('hashq'), 'a', 'b')
    .set(keys.queue('strq'), 'not a list')
    .zadd(keys.queue('zq'), 1, 'x')
    .rpush(
      keys.queue('huge'),
      JSON.stringify({ class: 'Big', args: [HUGE] }),
      HUGE,
      '{"class":"Ruby","args":[1.0,9007199254740993]}',
    )
    .set(keys.stat('huge-string'), HUGE)
    .exec();
  await registerWorker(redis, keys.namespace, BAD_WORKER, { heartbeat: new Date().toISOString() });
  await redis
    .pipeline()
    .del(keys.worker(BAD_WORKER), keys.processedBy(BAD_WORKER))
    .hset(keys.worker(BAD_WORKER), 'a', 'b')
    .rpush(keys.processedBy(BAD_WORKER), '1')
    .set(keys.failedBy(BAD_WORKER), 'many')
    .set(keys.workerStats(BAD_WORKER), 'not a hash')
    .set(keys.worker('web-1:101:mail'), '{"queue":')
    .exec();
}

/** Whole collections of the wrong type, one per namespace. */
const COLLECTIONS: Record<string, (keys: Keys) => Promise<unknown>> = {
  'queues as a list': (k) => redis.pipeline().del(k.queues).rpush(k.queues, 'mail').exec(),
  'queues as a string': (k) => redis.pipeline().del(k.queues).set(k.queues, 'mail').exec(),
  'failed as a hash': (k) => redis.pipeline().del(k.failed).hset(k.failed, 'a', 'b').exec(),
  'workers as a string': (k) => redis.pipeline().del(k.workers).set(k.workers, 'x').exec(),
  'workers:heartbeat as a string': (k) => redis.pipeline().del(k.heartbeats).set(k.heartbeats, 'x').exec(),
  'failed_queues as a string': (k) => redis.set(k.failedQueues, 'x'),
  'stat:processed as a hash': (k) => redis.pipeline().del(k.processed).hset(k.processed, 'a', '1').exec(),
  'stats samples as a hash': (k) => redis.hset(k.statsSamples, 'a', 'b'),
  'error groups as strings': (k) =>
    redis.pipeline().set(k.failureGroups, 'x').set(k.failureGroupDetails, 'y').exec(),
};

async function failureId(web: Served): Promise<string> {
  const answer = await web.client.get('/api/failed?limit=1');
  return answer.status === 200
    ? (answer.json<{ failures: Array<{ id: string }> }>().failures[0]?.id ?? 'x')
    : 'x';
}

function values(failure: string): ParamValues {
  return {
    name: ['mail', 'hashq', 'strq', 'zq', 'huge', 'nope', HOSTILE[0]!, '%', 'q'.repeat(3000)],
    id: ['web-1:100:mail', BAD_WORKER, failure, 'failed:3:0123456789', 'garbage', '%E2'],
    key: ['queue:hashq', 'queue:huge', 'stat:huge-string', 'failed', 'workers', 'ts:stats:samples', 'nope'],
    action: ['retry', 'clear', 'toString'],
    list: ['failed', 'mail_failed', '__proto__'],
  };
}

describe('wrong-typed items, huge values, hostile cursors and forms', () => {
  const namespace = uniqueNamespace('web-walk');
  const keys = new Keys(namespace);
  let web: Served;
  beforeAll(async () => {
    await seed(redis, sharedRedisUrl(), namespace);
    await damageItems(keys);
    web = await serve({ redis: sharedRedisUrl(), namespace });
  });
  afterAll(() => web.close());

  it('answers every route below 500, with the security headers', async () => {
    const answers = await walkRoutes(web.client, values(await failureId(web)), { queries: HOSTILE_QUERIES });
    // Healthy things still show while damaged items sit next to them.
    // Damaged items say what is wrong with them.
    expect(answers.get('GET /queues')?.text).toContain('queue:hashq holds a hash, not a list');
    const hashq = answers.get('GET /queues/hashq')!;
    expect(hashq.status).toBe(409);
    expect(hashq.text).toContain('queue:hashq holds a hash, not a list');
    expect(answers.get('GET /api/queues/strq')?.json()).toEqual({
      error: { code: 'WRONG_TYPE', message: 'queue:strq holds a string, not a list' },
    });
    expect(answers.get('GET /stats/keys/queue%3Ahuge')?.text).toContain('Only the first 64 KiB');
    for (const path of [
      '/overview',
      '/queues',
      '/queues/mail',
      '/workers',
      '/stats/resque',
      '/stats.txt',
      '/api/overview',
    ]) {
      expect(answers.get(`GET ${path}`)?.status, path).toBe(200);
    }
  }, 120_000);
});

describe.each(Object.entries(COLLECTIONS))('%s', (_label, damage) => {
  const namespace = uniqueNamespace('web-walk');
  let web: Served;
  beforeAll(async () => {
    await seed(redis, sharedRedisUrl(), namespace);
    await damage(new Keys(namespace));
    web = await serve({ redis: sharedRedisUrl(), namespace });
  });
  afterAll(() => web.close());

  it('answers every route below 500, with the security headers; pages that need the key name it', async () => {
    const answers = await walkRoutes(web.client, values(await failureId(web)));
    const refused = [...answers.values()].filter((a) => a.status === 409);
    for (const answer of refused) expect(answer.text).toMatch(/holds a \w+, not a \w+/);
  }, 60_000);
});
