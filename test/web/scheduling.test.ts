// The Delayed and Schedule pages: what they show of resque-scheduler's keys, that they stay O(page), and their
// actions (queue now, remove, clear behind a confirmation; run, enable, disable schedules).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { ScheduleStore } from '../../src/scheduler/schedule-store.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { rubyDelayedPush } from '../scheduler/delayed-helpers.js';
import { type Served, serve } from './client.js';

const namespace = uniqueNamespace('web-sched');
const redis = rawRedis();
const keys = new Keys(namespace);
const T = 1_900_000_000_000;
const S = T / 1000;
let web: Served;
let resque: Resque;

beforeAll(async () => {
  resque = new Resque({ redis: sharedRedisUrl(), namespace });
  await resque.enqueueAtTo('mail', T + 1000, 'Remind', { user: '<b>7</b>' });
  await resque.enqueueAtTo('mail', T + 2000, 'Remind', 1);
  await resque.enqueueAtTo('mail', T + 2000, 'Remind', 2);
  await rubyDelayedPush(
    redis,
    namespace,
    S + 9,
    '{"class":"Archive","args":[1,"x",2.0],"queue":"file_serve"}',
  );
  await new ScheduleStore(redis, keys).set('nightly', {
    cron: '0 3 * * *',
    class: 'Report',
    queue: 'reports',
    description: 'Nightly',
  });
  web = await serve({ redis: sharedRedisUrl(), namespace });
});
afterAll(async () => {
  await web.close();
  await resque.close();
  redis.disconnect();
});

const page = async (path: string) => {
  const answer = await web.client.get(path);
  expect(answer.status, `${path}: ${answer.text.slice(0, 300)}`).toBe(200);
  return answer.text;
};

describe('the Delayed page', () => {
  it('lists timestamps with their counts, the job when alone, escaped', async () => {
    const text = await page('/delayed');
    expect(text).toContain('3 timestamps');
    expect(text).toContain(`href="/delayed/${S + 2}"`);
    expect(text).toContain('all 2 jobs');
    expect(text).toContain('&lt;b&gt;7&lt;/b&gt;');
    expect(text).not.toContain('<b>7</b>');
    expect(text).toContain('Delayed</a>');
  });

  it('shows the jobs of one timestamp, and 404 for an empty one', async () => {
    const text = await page(`/delayed/${S + 2}`);
    expect(text).toContain('2 jobs');
    expect((await web.client.get(`/delayed/${S + 500}`)).status).toBe(404);
    expect((await web.client.get('/delayed/abc')).status).toBe(400);
  });

  it('searches by class and argument text', async () => {
    const text = await page('/delayed/search?class=archive&args=x');
    expect(text).toContain('1 found');
  });

  it('queues one job of a timestamp now, and removes a Ruby-written job by its bytes', async () => {
    expect((await web.client.post('/delayed/queue-now', { timestamp: S + 2 })).status).toBe(303);
    expect(await redis.llen(keys.queue('mail'))).toBe(1);
    expect(await redis.llen(keys.delayedAt(S + 2))).toBe(1);
    const removed = await web.client.post('/delayed/remove', {
      timestamp: S + 9,
      item: '{"class":"Archive","args":[1,"x",2.0],"queue":"file_serve"}',
    });
    expect(removed.status).toBe(303);
    expect(await redis.exists(keys.delayedAt(S + 9))).toBe(0);
  });

  it('clears everything only after the count-and-confirm step', async () => {
    const confirm = await page('/delayed/clear');
    expect(confirm).toMatch(/2 timestamps, 2 jobs will be removed/);
    expect((await web.client.post('/delayed/clear', {})).status).toBe(303);
    expect(await resque.delayed.count()).toBe(0);
  });
});

describe('the Schedule page', () => {
  it('shows schedules with next run and the master, and runs, disables and enables them', async () => {
    await redis.set(keys.schedulerMasterLock(), 'ruby-host:4242', 'EX', 60);
    const text = await page('/schedule');
    expect(text).toContain('ruby-host:4242');
    expect(text).toContain('nightly');
    expect(text).toContain('cron: 0 3 * * *');
    expect(text).toMatch(/\d{4}-\d\d-\d\d 03:00:00/);
    expect((await web.client.post('/schedule/run', { name: 'nightly' })).status).toBe(303);
    expect(await redis.llen(keys.queue('reports'))).toBe(1);
    expect((await web.client.post('/schedule/disable', { name: 'nightly' })).status).toBe(303);
    expect(await redis.hexists(keys.persistentSchedules, 'nightly')).toBe(0);
    expect(await page('/schedule')).toContain('disabled');
    expect((await web.client.post('/schedule/enable', { name: 'nightly' })).status).toBe(303);
    expect(await redis.hexists(keys.persistentSchedules, 'nightly')).toBe(1);
    expect((await web.client.post('/schedule/run', { name: 'nope' })).status).toBe(404);
  });
});
