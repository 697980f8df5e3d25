// Cancelling from the dashboard: the link beside a queued job, the confirmation page, the form route and the JSON
// API route, behind the CSRF check; a read-only dashboard offers and allows none of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { before as ago, registerWorker, type Served, serve } from './client.js';

const namespace = uniqueNamespace('web-cancel');
const redis = rawRedis();
const keys = new Keys(namespace);
let web: Served;
let readOnly: Served;
const ids: string[] = [];

beforeAll(async () => {
  const resque = new Resque({ redis: sharedRedisUrl(), namespace });
  try {
    for (const n of [1, 2, 3]) ids.push((await resque.enqueueTo('mail', 'Remind', n))!.id!);
    ids.push((await resque.enqueueAtTo('mail', Date.now() + 60_000, 'Remind', 4))!.id!);
  } finally {
    await resque.close();
  }
  web = await serve({ redis: sharedRedisUrl(), namespace });
  readOnly = await serve({ redis: sharedRedisUrl(), namespace, readOnly: true });
});
afterAll(async () => {
  await web.close();
  await readOnly.close();
  redis.disconnect();
});

describe('cancelling from the dashboard', () => {
  it('links each queued job to a confirmation page whose button cancels it', async () => {
    const page = await web.client.get('/queues/mail');
    expect(page.text).toContain(`/jobs/${ids[0]}/cancel?back=%2Fqueues%2Fmail`);
    const confirm = await web.client.get(`/jobs/${ids[0]}/cancel?back=%2Fqueues%2Fmail`);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('Cancel job');
    expect(confirm.text).toContain('name="_csrf"');
    const done = await web.client.post(`/jobs/${ids[0]}/cancel`, { back: '/queues/mail' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toContain('/queues/mail');
    expect(await redis.zscore(keys.cancelledQueued, ids[0]!)).not.toBeNull();
  });

  it('the API cancels a delayed job and says what it found; a form without the CSRF token is refused', async () => {
    const refused = await web.client.post(`/api/jobs/${ids[3]}/cancel`, { _csrf: '' });
    expect(refused.status).toBe(403);
    expect(await redis.zcard(keys.delayedDue)).toBe(1);
    const answer = await web.client.post(`/api/jobs/${ids[3]}/cancel`, {});
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ id: ids[3], was: 'delayed' });
    expect(await redis.zcard(keys.delayedDue)).toBe(0);
    const bad = await web.client.post('/api/jobs/%22x%22/cancel', {});
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'INVALID_JOB_ID' } });
  });

  it("offers Cancel… beside a running job's id on its Working page", async () => {
    await registerWorker(redis, namespace, 'web-9:900:mail', {
      heartbeat: ago(0),
      job: { queue: 'mail', runAt: ago(1000), payload: '{"class":"Remind","args":[9],"id":"run9"}' },
    });
    const page = await web.client.get(`/working/${encodeURIComponent('web-9:900:mail')}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<code>run9</code>');
    expect(page.text).toContain('/jobs/run9/cancel?back=');
  });

  it('a back link outside the dashboard is not followed', async () => {
    const done = await web.client.post(`/jobs/${ids[1]}/cancel`, { back: '//evil.example/' });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).not.toContain('evil');
  });

  it('a read-only dashboard shows no cancel link and refuses the action', async () => {
    const page = await readOnly.client.get('/queues/mail');
    expect(page.text).not.toContain('/cancel');
    const refused = await readOnly.client.post(`/api/jobs/${ids[2]}/cancel`, {});
    expect(refused.status).toBe(403);
    expect(await redis.zscore(keys.cancelledQueued, ids[2]!)).toBeNull();
  });
});
