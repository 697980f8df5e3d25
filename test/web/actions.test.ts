// Every action: POST only, with a CSRF token; bulk actions count first on a confirmation page, and refuse to run
// when more would be touched than was confirmed.
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { type Served, serve, WebClient } from './client.js';
import { seed } from './fixture.js';

const redis = rawRedis();
let namespace: string;
let keys: Keys;
let web: Served;

beforeEach(async () => {
  namespace = uniqueNamespace('web-actions');
  keys = new Keys(namespace);
  await seed(redis, sharedRedisUrl(), namespace);
  web = await serve({ redis: sharedRedisUrl(), namespace });
  return () => web.close();
});
afterAll(() => redis.disconnect());

const firstFailure = async (query = '') =>
  (await web.client.get(`/api/failed?limit=1${query}`)).json<{
    failures: Array<{ id: string; raw: string }>;
  }>().failures[0]!;

describe('one failure', () => {
  it('retries it: the record stays with retried_at and the job is back on its queue', async () => {
    const failure = await firstFailure('&queue=hostile');
    const before = await redis.llen(keys.queue('hostile'));
    const answer = await web.client.post('/failed/retry', { id: failure.id });
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/failed');
    expect(await redis.llen(keys.queue('hostile'))).toBe(before + 1);
    const after = await web.client.get('/failed');
    expect(after.text).toContain('Retried a Evil on hostile.');
    expect(after.text).toMatch(/badge">retried/);
    expect(await redis.llen(keys.failed)).toBe(31);
  });

  it('removes it, and answers 404 for the same id afterwards', async () => {
    const failure = await firstFailure();
    expect((await web.client.post('/failed/remove', { id: failure.id })).status).toBe(303);
    expect(await redis.llen(keys.failed)).toBe(30);
    const again = await web.client.post('/failed/remove', { id: failure.id });
    expect(again.status).toBe(404);
    expect(again.text).toContain('FAILURE_NOT_FOUND');
  });

  it('retries and removes through the JSON API with the CSRF header', async () => {
    const failure = await firstFailure();
    const token = await web.client.csrf();
    const retried = await web.client.send(
      'POST',
      `/api/failed/${encodeURIComponent(failure.id)}/retry`,
      '{}',
      {
        'content-type': 'application/json',
        'x-csrf-token': token,
      },
    );
    expect(retried.status).toBe(200);
    expect(retried.json()).toMatchObject({ queue: 'hostile' });
    const removed = await web.client.send(
      'POST',
      `/api/failed/${encodeURIComponent(failure.id)}/remove`,
      '',
      {
        'x-csrf-token': token,
      },
    );
    expect(removed.status).toBe(200);
    expect(await redis.llen(keys.failed)).toBe(30);
  });
});

describe('bulk failure actions', () => {
  it('shows the count before retrying everything that matches, then retries', async () => {
    const confirm = await web.client.get('/failed/bulk/retry?class=Export');
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('Retry 10 failed jobs?');
    expect(await redis.llen(keys.queue('mail'))).toBe(46);
    const done = await web.client.post('/failed/bulk/retry', { class: 'Export', expected: 10 });
    expect(done.status).toBe(303);
    expect(await redis.llen(keys.queue('mail'))).toBe(56);
    expect((await web.client.get('/failed')).text).toContain('Retried 10 failed jobs.');
    const again = await web.client.get('/failed/bulk/retry?class=Export');
    expect(again.text).toContain('Retry 0 failed jobs?');
  });

  it('clears retried failures, then everything, each after a count', async () => {
    await web.client.post('/failed/bulk/retry', { queue: 'hostile' });
    const confirm = await web.client.get('/failed/bulk/clear?retried=yes');
    expect(confirm.text).toContain('Remove 1 failed job?');
    await web.client.post('/failed/bulk/clear', { retried: 'yes', expected: 1 });
    expect(await redis.llen(keys.failed)).toBe(30);
    expect((await web.client.get('/failed/bulk/clear')).text).toContain('Remove 30 failed jobs?');
    await web.client.post('/failed/bulk/clear', { expected: 30 });
    expect(await redis.exists(keys.failed)).toBe(0);
  });

  it('refuses when more failures match than were confirmed', async () => {
    const answer = await web.client.post('/failed/bulk/clear', { class: 'Export', expected: 3 });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('more than the 3 confirmed');
    expect(await redis.llen(keys.failed)).toBe(31);
  });

  it('retries and clears an error group', async () => {
    const { groups } = (await web.client.get('/api/errors')).json<{
      groups: Array<{ id: string; exception: string }>;
    }>();
    const timeout = groups.find((g) => g.exception === 'TimeoutError')!;
    expect((await web.client.get(`/failed/bulk/clear?group=${timeout.id}`)).text).toContain(
      'Remove 10 failed jobs?',
    );
    await web.client.post('/failed/bulk/clear', { group: timeout.id });
    expect(await redis.llen(keys.failed)).toBe(21);
  });
});

describe('queues', () => {
  it('removes a queue after a confirmation page with its size', async () => {
    const confirm = await web.client.get('/queues/mail/remove');
    expect(confirm.text).toContain('all 46 of its jobs');
    const answer = await web.client.post('/queues/mail/remove');
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe('/queues');
    expect(await redis.sismember(keys.queues, 'mail')).toBe(0);
    expect(await redis.exists(keys.queue('mail'))).toBe(0);
    expect((await web.client.get('/queues')).text).toContain('Removed queue mail and its 46 jobs.');
    expect((await web.client.post('/queues/mail/remove')).status).toBe(404);
  });

  it('removes the jobs matching a search after showing how many', async () => {
    const confirm = await web.client.get('/queues/mail/remove-matching?args=user4');
    expect(confirm.text).toContain('6 of 46 jobs');
    const answer = await web.client.post('/queues/mail/remove-matching', { args: 'user4', expected: 6 });
    expect(answer.status).toBe(303);
    expect(await redis.llen(keys.queue('mail'))).toBe(40);
    const byClass = await web.client.post('/queues/mail/remove-matching', { class: 'Cleanup' });
    expect(byClass.status).toBe(303);
    expect(await redis.llen(keys.queue('mail'))).toBe(39);
    expect((await web.client.post('/queues/mail/remove-matching', {})).status).toBe(400);
  });
});

describe('what actions refuse', () => {
  it('refuses a POST without a valid CSRF token and changes nothing', async () => {
    const none = await web.client.post('/queues/mail/remove', { _csrf: '' });
    expect(none.status).toBe(403);
    const forged = await web.client.post('/queues/mail/remove', { _csrf: 'forged' });
    expect(forged.status).toBe(403);
    const otherSession = new WebClient(web.base);
    const token = await web.client.csrf();
    expect((await otherSession.post('/queues/mail/remove', { _csrf: token })).status).toBe(403);
    expect(await redis.llen(keys.queue('mail'))).toBe(46);
  });

  it('never mutates on GET: action paths answer 405 or a confirmation page', async () => {
    const failure = await firstFailure();
    expect((await web.client.get('/failed/retry')).status).toBe(404);
    expect((await web.client.get(`/api/failed/${encodeURIComponent(failure.id)}/retry`)).status).toBe(405);
    expect((await web.client.get(`/api/failed/${encodeURIComponent(failure.id)}/remove`)).status).toBe(405);
    expect((await web.client.get('/api/queues/mail/remove')).status).toBe(405);
    expect(await redis.llen(keys.failed)).toBe(31);
    expect(await redis.llen(keys.queue('mail'))).toBe(46);
  });

  it('in read-only mode shows no action buttons and refuses every POST', async () => {
    const readOnly = await serve({ redis: sharedRedisUrl(), namespace, readOnly: true });
    try {
      const failed = await readOnly.client.get('/failed');
      expect(failed.text).not.toContain('method="post"');
      expect(failed.text).not.toContain('Retry all');
      expect(failed.text).toContain('read-only');
      expect((await readOnly.client.get('/queues/mail')).text).not.toContain('Remove queue');
      const answer = await readOnly.client.post('/queues/mail/remove');
      expect(answer.status).toBe(403);
      expect(answer.text).toContain('read-only');
      expect(await redis.llen(keys.queue('mail'))).toBe(46);
    } finally {
      await readOnly.close();
    }
  });
});

describe('coming back', () => {
  it('returns to the filtered list after acting on one failure, and never leaves the dashboard', async () => {
    const failure = await firstFailure('&class=Export');
    const answer = await web.client.post('/failed/retry', { id: failure.id, back: '/failed?class=Export' });
    expect(answer.headers.get('location')).toBe('/failed?class=Export');
    const other = await firstFailure('&class=Mailer');
    const outside = await web.client.post('/failed/remove', { id: other.id, back: 'https://evil.example/' });
    expect(outside.headers.get('location')).toBe('/failed');
    const page = await web.client.get('/failed?class=Export');
    expect(page.text).toContain('name="back" value="/failed?class=Export"');
  });
});

describe('pausing', () => {
  it('pauses and resumes a queue from its page, shown on the queue lists, and through the API', async () => {
    const queue = 'mail';
    const paused = await web.client.post(`/queues/${encodeURIComponent(queue)}/pause`, {});
    expect(paused.status).toBe(303);
    expect(await redis.hexists(keys.pausedQueues, queue)).toBe(1);
    const page = await web.client.get(`/queues/${encodeURIComponent(queue)}`);
    expect(page.text).toContain(`Paused ${queue}.`);
    expect(page.text).toMatch(/state-paused[^>]*>paused/);
    expect(page.text).toContain('>Resume</button>');
    expect((await web.client.get('/queues')).text).toMatch(/state-paused">paused/);
    const token = await web.client.csrf();
    const resumed = await web.client.send('POST', `/api/queues/${encodeURIComponent(queue)}/resume`, '', {
      'x-csrf-token': token,
    });
    expect(resumed.json()).toEqual({ queue, paused: false, changed: true });
    expect(await redis.hexists(keys.pausedQueues, queue)).toBe(0);
    expect((await web.client.post('/queues/no-such-queue/pause', {})).status).toBe(404);
    expect(await redis.hexists(keys.pausedQueues, 'no-such-queue')).toBe(0);
  });

  it('sets and clears Ruby’s pause-all-workers from the Queues page', async () => {
    expect((await web.client.post('/workers/pause-all', {})).status).toBe(303);
    expect(await redis.get(keys.pauseAll)).toBe('true');
    const page = await web.client.get('/queues');
    expect(page.text).toContain('all workers paused');
    expect(page.text).toContain('Resume all workers');
    expect((await web.client.post('/workers/resume-all', {})).status).toBe(303);
    expect(await redis.exists(keys.pauseAll)).toBe(0);
  });
});
