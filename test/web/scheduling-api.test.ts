// The JSON API of the Delayed and Schedule tabs and the Overview's overdue alert: every route's status and body, bad
// input answered 400 with what was wrong, unknown timestamps, jobs and schedules 404, and the protections every POST
// has (CSRF token, origin, read-only, auth).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { ScheduleStore } from '../../src/scheduler/schedule-store.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { rubyDelayedPush } from '../scheduler/delayed-helpers.js';
import { type Served, serve, WebClient } from './client.js';

const T = 1_900_000_000_000; // far in the future: nothing here is overdue unless filed in the past on purpose
const S = T / 1000;
const RUBY_ITEM = '{"class":"Archive","args":[1,"x",2.0],"queue":"file_serve"}';
const redis = rawRedis();
let namespace: string;
let keys: Keys;
let resque: Resque;
let web: Served;

/** A namespace with four delayed jobs at three timestamps (one Ruby-written) and one stored schedule. */
async function seed(): Promise<void> {
  namespace = uniqueNamespace('web-sched-api');
  keys = new Keys(namespace);
  resque = new Resque({ redis: sharedRedisUrl(), namespace });
  await resque.enqueueAtTo('mail', T + 1000, 'Remind', { user: 7 });
  await resque.enqueueAtTo('mail', T + 2000, 'Remind', 1);
  await resque.enqueueAtTo('mail', T + 2000, 'Remind', 2);
  await rubyDelayedPush(redis, namespace, S + 9, RUBY_ITEM);
  await new ScheduleStore(redis, keys).set('nightly', {
    cron: '0 3 * * *',
    class: 'Report',
    queue: 'reports',
  });
  web = await serve({ redis: sharedRedisUrl(), namespace });
}

async function teardown(): Promise<void> {
  await web.close();
  await resque.close();
}

afterAll(() => redis.disconnect());

/** A JSON POST with the session's CSRF token. */
async function postJson(client: WebClient, path: string, body: Record<string, unknown> = {}) {
  return client.send('POST', path, JSON.stringify(body), {
    'content-type': 'application/json',
    'x-csrf-token': await client.csrf(),
  });
}

const errorOf = (answer: { json: <T>() => T }) =>
  answer.json<{ error: { code: string; message: string } }>().error;

describe('reading delayed jobs', () => {
  beforeAll(seed);
  afterAll(teardown);

  it('GET /api/delayed: timestamps a page at a time with their counts, the job when alone, the backlog', async () => {
    const answer = await web.client.get('/api/delayed');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    const body = answer.json<Record<string, unknown>>();
    expect(body).toMatchObject({ total: 3, offset: 0, limit: 20 });
    expect(body['timestamps']).toEqual([
      {
        timestamp: S + 1,
        dueAt: new Date(T + 1000).toISOString(),
        jobs: 1,
        job: {
          raw: '{"class":"Remind","args":[{"user":7}],"queue":"mail"}',
          className: 'Remind',
          args: [{ user: 7 }],
          queue: 'mail',
        },
      },
      { timestamp: S + 2, dueAt: new Date(T + 2000).toISOString(), jobs: 2, job: null },
      expect.objectContaining({
        timestamp: S + 9,
        jobs: 1,
        job: expect.objectContaining({ raw: RUBY_ITEM }),
      }),
    ]);
    expect(body['backlog']).toEqual({
      overdue: false,
      overdueJobs: 0,
      overdueJobsExact: true,
      overdueSeconds: 0,
      earliestDueAt: new Date(T + 1000).toISOString(),
      lateMs: 0,
    });
    const second = (await web.client.get('/api/delayed?start=1&limit=1')).json<Record<string, unknown>>();
    expect(second).toMatchObject({ total: 3, offset: 1, limit: 1, timestamps: [{ timestamp: S + 2 }] });
  });

  it('GET /api/delayed/:ts: the jobs of one timestamp; 404 for an empty one, 400 for a malformed one', async () => {
    const answer = await web.client.get(`/api/delayed/${S + 2}?limit=1`);
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({
      timestamp: S + 2,
      dueAt: new Date(T + 2000).toISOString(),
      size: 2,
      offset: 0,
      limit: 1,
      jobs: [
        {
          raw: '{"class":"Remind","args":[1],"queue":"mail"}',
          className: 'Remind',
          args: [1],
          queue: 'mail',
        },
      ],
    });
    const empty = await web.client.get(`/api/delayed/${S + 500}`);
    expect(empty.status).toBe(404);
    expect(errorOf(empty)).toEqual({ code: 'NOT_FOUND', message: `No delayed jobs at ${S + 500}` });
    const bad = await web.client.get('/api/delayed/soon');
    expect(bad.status).toBe(400);
    expect(errorOf(bad)).toEqual({
      code: 'BAD_REQUEST',
      message: 'A timestamp is epoch seconds, got "soon"',
    });
  });

  it('GET /api/delayed/search: matches by class and argument text, with their timestamps', async () => {
    const answer = await web.client.get('/api/delayed/search?class=archive&args=x');
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({
      complete: true,
      found: [
        {
          timestamp: S + 9,
          dueAt: new Date((S + 9) * 1000).toISOString(),
          raw: RUBY_ITEM,
          className: 'Archive',
          args: [1, 'x', 2],
          queue: 'file_serve',
        },
      ],
    });
  });

  it('GET /api/delayed/count: what clearing would remove', async () => {
    expect((await web.client.get('/api/delayed/count')).json()).toEqual({ timestamps: 3, jobs: 4 });
  });

  it('refuses bad paging with a 400 that names the parameter', async () => {
    for (const [query, message] of [
      ['limit=0', 'limit must be at least 1'],
      ['limit=ten', 'limit must be a whole number, got "ten"'],
      ['start=-1', 'start must be a whole number, got "-1"'],
    ]) {
      const answer = await web.client.get(`/api/delayed?${query}`);
      expect(answer.status, query).toBe(400);
      expect(errorOf(answer).message).toBe(message);
    }
    expect((await web.client.get(`/api/delayed/${S + 2}?start=x`)).status).toBe(400);
  });

  it('lists the routes in GET /api', async () => {
    const { endpoints } = (await web.client.get('/api')).json<{ endpoints: Record<string, string> }>();
    expect(Object.keys(endpoints)).toEqual(
      expect.arrayContaining([
        'GET /api/delayed?start&limit',
        'GET /api/delayed/:ts?start&limit',
        'POST /api/delayed/:ts/queue-now {all?}',
        'POST /api/delayed/:ts/remove {item}',
        'GET /api/schedule',
        'POST /api/schedule/:name/run',
      ]),
    );
  });
});

describe('delayed-job actions', () => {
  beforeEach(seed);
  afterEach(teardown);

  it('POST /api/delayed/:ts/queue-now moves the first job, or all of them; 404 when there is none', async () => {
    const one = await postJson(web.client, `/api/delayed/${S + 2}/queue-now`);
    expect(one.status).toBe(200);
    expect(one.json()).toEqual({ timestamp: S + 2, queued: 1 });
    expect(await redis.llen(keys.queue('mail'))).toBe(1);
    const all = await postJson(web.client, `/api/delayed/${S + 9}/queue-now`, { all: true });
    expect(all.json()).toEqual({ timestamp: S + 9, queued: 1 });
    expect(await redis.lrange(keys.queue('file_serve'), 0, -1)).toEqual([
      expect.stringMatching(/^\{"class":"Archive","args":\[1,"x",2\.0\],"id":/),
    ]);
    const none = await postJson(web.client, `/api/delayed/${S + 9}/queue-now`, { all: 'yes' });
    expect(none.status).toBe(404);
    expect(errorOf(none).message).toBe(`No delayed jobs at ${S + 9}`);
  });

  it('POST /api/delayed/:ts/queue-now refuses a bad timestamp or flag, changing nothing', async () => {
    const bad = await postJson(web.client, '/api/delayed/tomorrow/queue-now');
    expect(bad.status).toBe(400);
    expect(errorOf(bad).message).toBe('A timestamp is epoch seconds, got "tomorrow"');
    const flag = await postJson(web.client, `/api/delayed/${S + 2}/queue-now`, { all: 'maybe' });
    expect(flag.status).toBe(400);
    expect(errorOf(flag).message).toBe('all must be yes or no, got "maybe"');
    expect(await resque.delayed.count()).toBe(4);
  });

  it('POST /api/delayed/:ts/remove removes a job by its exact bytes; 400 without them, 404 when not there', async () => {
    const missing = await postJson(web.client, `/api/delayed/${S + 9}/remove`);
    expect(missing.status).toBe(400);
    expect(errorOf(missing).message).toBe("Which job? Send its exact bytes as item (a job's raw)");
    const wrong = await postJson(web.client, `/api/delayed/${S + 9}/remove`, {
      item: '{"class":"Archive","args":[1,"x",2],"queue":"file_serve"}',
    });
    expect(wrong.status).toBe(404);
    expect(errorOf(wrong).message).toBe(`No delayed job at ${S + 9} with these bytes`);
    const removed = await postJson(web.client, `/api/delayed/${S + 9}/remove`, { item: RUBY_ITEM });
    expect(removed.status).toBe(200);
    expect(removed.json()).toEqual({ timestamp: S + 9, removed: 1 });
    expect(await redis.exists(keys.delayedAt(S + 9), keys.timestamps(RUBY_ITEM))).toBe(0);
  });

  it('POST /api/delayed/clear clears everything, refusing when more timestamps exist than confirmed', async () => {
    const bad = await postJson(web.client, '/api/delayed/clear', { expected: 'all' });
    expect(bad.status).toBe(400);
    expect(errorOf(bad).message).toBe('expected is a count of timestamps, got "all"');
    const grown = await postJson(web.client, '/api/delayed/clear', { expected: 2 });
    expect(grown.status).toBe(400);
    expect(errorOf(grown).message).toBe(
      '3 timestamps are delayed now, more than the 2 confirmed: nothing was done; confirm again',
    );
    expect(await resque.delayed.count()).toBe(4);
    const cleared = await postJson(web.client, '/api/delayed/clear', { expected: 3 });
    expect(cleared.status).toBe(200);
    expect(cleared.json()).toEqual({ clearedTimestamps: 3 });
    expect(await resque.delayed.count()).toBe(0);
  });

  it('GET on an action answers 405', async () => {
    expect((await web.client.get(`/api/delayed/${S + 2}/queue-now`)).status).toBe(405);
    expect((await web.client.get(`/api/delayed/${S + 2}/remove`)).status).toBe(405);
    expect((await web.client.get('/api/schedule/nightly/run')).status).toBe(405);
  });
});

describe('schedules', () => {
  beforeEach(seed);
  afterEach(teardown);

  it('GET /api/schedule: schedules with their next run and the master', async () => {
    await redis.set(keys.schedulerMasterLock(), 'ruby-host:4242', 'EX', 60);
    const answer = await web.client.get('/api/schedule');
    expect(answer.status).toBe(200);
    const body = answer.json<{ master: string; schedules: Array<Record<string, unknown>> }>();
    expect(body.master).toBe('ruby-host:4242');
    expect(body.schedules).toEqual([
      {
        name: 'nightly',
        enabled: true,
        interval: 'cron: 0 3 * * *',
        className: 'Report',
        queue: 'reports',
        args: null,
        missed: 'skip',
        nextRunAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT03:00:00\.000Z$/),
      },
    ]);
  });

  it('POST /api/schedule/:name/run, disable and enable; 404 for an unknown or already switched schedule', async () => {
    const run = await postJson(web.client, '/api/schedule/nightly/run');
    expect(run.status).toBe(200);
    expect(run.json()).toEqual({ name: 'nightly', enqueued: true });
    expect(await redis.llen(keys.queue('reports'))).toBe(1);
    const disabled = await postJson(web.client, '/api/schedule/nightly/disable');
    expect(disabled.json()).toEqual({ name: 'nightly', enabled: false });
    expect(await redis.hexists(keys.persistentSchedules, 'nightly')).toBe(0);
    expect((await web.client.get('/api/schedule')).json()).toMatchObject({
      schedules: [{ name: 'nightly', enabled: false, nextRunAt: null }],
    });
    const again = await postJson(web.client, '/api/schedule/nightly/disable');
    expect(again.status).toBe(404);
    expect(errorOf(again).message).toBe('No enabled schedule "nightly"');
    expect((await postJson(web.client, '/api/schedule/nightly/enable')).json()).toEqual({
      name: 'nightly',
      enabled: true,
    });
    const unknown = await postJson(web.client, '/api/schedule/nope/run');
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown)).toEqual({ code: 'NOT_FOUND', message: 'No schedule "nope"' });
  });
});

describe('what protects the POST routes', () => {
  beforeAll(seed);
  afterAll(teardown);

  const actions = () => [
    `/api/delayed/${S + 2}/queue-now`,
    `/api/delayed/${S + 9}/remove`,
    '/api/delayed/clear',
    '/api/schedule/nightly/run',
    '/api/schedule/nightly/disable',
  ];

  it('refuses them without the CSRF token, and from another origin, changing nothing', async () => {
    for (const path of actions()) {
      const bare = await web.client.send('POST', path, `item=${encodeURIComponent(RUBY_ITEM)}`, {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(bare.status, path).toBe(403);
      expect(errorOf(bare)).toEqual({ code: 'FORBIDDEN', message: 'Missing or invalid CSRF token' });
      const foreign = await web.client.send('POST', path, '{}', {
        'content-type': 'application/json',
        'x-csrf-token': await web.client.csrf(),
        origin: 'https://evil.example',
      });
      expect(foreign.status, path).toBe(403);
    }
    expect(await resque.delayed.count()).toBe(4);
    expect(await redis.hexists(keys.persistentSchedules, 'nightly')).toBe(1);
    expect(await redis.llen(keys.queue('reports'))).toBe(0);
  });

  it('refuses them in read-only mode', async () => {
    const readOnly = await serve({ redis: sharedRedisUrl(), namespace, readOnly: true });
    try {
      for (const path of actions()) {
        const answer = await postJson(readOnly.client, path, { item: RUBY_ITEM });
        expect(answer.status, path).toBe(403);
        expect(errorOf(answer).message).toBe('The dashboard is read-only');
      }
      expect((await readOnly.client.get('/api/delayed')).status).toBe(200);
      expect(await resque.delayed.count()).toBe(4);
    } finally {
      await readOnly.close();
    }
  });

  it('with a token: 401 without it; a Bearer token reads and acts without a CSRF token', async () => {
    const guarded = await serve({ redis: sharedRedisUrl(), namespace, auth: { token: 'tok-sched' } });
    try {
      const script = new WebClient(guarded.base);
      for (const path of ['/api/delayed', `/api/delayed/${S + 2}`, '/api/delayed/search', '/api/schedule']) {
        const anonymous = await script.get(path);
        expect(anonymous.status, path).toBe(401);
        expect(errorOf(anonymous).code).toBe('UNAUTHORIZED');
      }
      const bearer = { authorization: 'Bearer tok-sched' };
      expect((await script.get('/api/schedule', bearer)).status).toBe(200);
      const run = await script.send('POST', '/api/schedule/nightly/run', '', bearer);
      expect(run.status).toBe(200);
      expect(await redis.llen(keys.queue('reports'))).toBe(1);
    } finally {
      await guarded.close();
    }
  });
});

describe('the Overview', () => {
  beforeAll(seed);
  afterAll(teardown);

  it('says nothing about delayed jobs while none is overdue', async () => {
    expect((await web.client.get('/overview')).text).not.toContain('overdue');
    expect((await web.client.get('/api/overview')).json()).toMatchObject({
      delayed: { overdue: false, overdueJobs: 0 },
    });
  });

  it('warns with the count, the earliest due time and what to start when delayed jobs are overdue', async () => {
    const [now] = await redis.time();
    const late = Number(now) - 3600;
    for (let n = 0; n < 3; n++)
      await rubyDelayedPush(redis, namespace, late + (n % 2), `{"class":"Late","args":[${n}],"queue":"q"}`);
    const page = (await web.client.get('/overview')).text;
    expect(page).toContain('<section class="risks overdue" role="alert">');
    expect(page).toContain('3 delayed jobs are overdue');
    expect(page).toContain(`datetime="${new Date(late * 1000).toISOString()}"`);
    expect(page).toContain('<code>resque work</code>');
    expect(page).toContain('<code>resque scheduler</code>');
    expect(page).toContain('href="/delayed"');
    const { delayed } = (await web.client.get('/api/overview')).json<{ delayed: Record<string, unknown> }>();
    expect(delayed).toMatchObject({
      overdue: true,
      overdueJobs: 3,
      overdueJobsExact: true,
      overdueSeconds: 2,
      earliestDueAt: new Date(late * 1000).toISOString(),
    });
    expect(delayed['lateMs']).toBeGreaterThanOrEqual(3_600_000);
    expect((await web.client.get('/delayed')).text).toContain('3 delayed jobs are overdue');
  });
});
