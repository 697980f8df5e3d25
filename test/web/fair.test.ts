// Fair queues made visible (docs/flow-control.md, Fair sharing): `Admin.queues()` and `tenants()`, `resque queues`
// (text and --json), the dashboard's queue list and a fair queue's page with its busiest tenants, and the JSON API.
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Admin } from '../../src/api/admin.js';
import { TENANTS_READ } from '../../src/api/fair.js';
import { Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import { Keys } from '../../src/protocol/keys.js';
import { resqueInProcess } from '../harness/cli-in-process.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { type Served, serve } from './client.js';

const redis = rawRedis();
afterAll(() => redis.disconnect());

const Export = defineJob({
  className: 'Export',
  queue: 'exports',
  tenant: (account: string, _n: number) => account,
  perform: (_ctx, _account: string, _n: number) => {},
});

let keys: Keys;
let web: Served;

beforeEach(async () => {
  keys = new Keys(uniqueNamespace('web-fair'));
  const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
  await resque.fairQueue('exports');
  await resque.weighTenant('exports', 'acme', 3);
  await resque.enqueueBulk(
    Export,
    Array.from({ length: 40 }, (_, i) => ['acme', i] as [string, number]),
  );
  for (const [account, jobs] of [
    ['globex', 5],
    ['initech', 12],
  ] as const)
    for (let i = 0; i < jobs; i++) await resque.enqueue(Export, account, i);
  await resque.enqueueTo('exports', 'Plain', 1);
  await resque.enqueueTo('mail', 'Mailer', 1);
  await resque.close();
  web = await serve({ redis: sharedRedisUrl(), namespace: keys.namespace });
  return () => web.close();
});

describe('fair queues in the admin read model', () => {
  it('sums the tenant lists per fair queue and lists the busiest tenants with their weights', async () => {
    const admin = new Admin({ redis: sharedRedisUrl(), namespace: keys.namespace });
    const queues = await admin.queues();
    expect(queues.find((q) => q.name === 'exports')).toMatchObject({
      size: 1,
      fair: { tenants: 3, jobs: 57, partial: false, since: expect.any(Date) },
    });
    expect(queues.find((q) => q.name === 'mail')?.fair).toBeUndefined();
    expect(await admin.tenants('exports', 2)).toMatchObject({
      tenants: 3,
      jobs: 57,
      busiest: [
        { tenant: 'acme', size: 40, weight: 3 },
        { tenant: 'initech', size: 12, weight: 1 },
      ],
    });
    expect(await admin.tenants('mail')).toBeUndefined();
    await admin.close();
  });

  it(`reads at most ${TENANTS_READ} tenants per queue and says when it did not read them all`, async () => {
    const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
    const many = Array.from({ length: TENANTS_READ + 50 }, (_, i) => [`t${i}`, 0] as [string, number]);
    await resque.enqueueBulk(Export, many);
    await resque.close();
    const admin = new Admin({ redis: sharedRedisUrl(), namespace: keys.namespace });
    const view = await admin.tenants('exports');
    expect(view).toMatchObject({ tenants: TENANTS_READ + 53, jobs: 57 + TENANTS_READ - 3, partial: true });
    expect(view?.busiest).toHaveLength(10);
    await admin.close();
  });
});

describe('fair queues in the CLI and on the dashboard', () => {
  const at = () => ['--redis', sharedRedisUrl(), '--namespace', keys.namespace];

  it('resque queues shows the tenants and the jobs on their lists, --json carries them', async () => {
    const text = await resqueInProcess(['queues', ...at()]);
    expect(text.stdout).toMatch(/exports \(fair: 3 tenants, 57 on tenant lists\)\s+1\b/);
    const json = await resqueInProcess(['queues', '--json', ...at()]);
    const rows = JSON.parse(json.stdout) as Array<{ name: string; fair: unknown }>;
    expect(rows.find((q) => q.name === 'exports')?.fair).toEqual({
      since: expect.stringMatching(/Z$/),
      tenants: 3,
      jobs: 57,
      partial: false,
    });
    expect(rows.find((q) => q.name === 'mail')?.fair).toBeNull();
  });

  it('marks a fair queue in the queue list and shows its busiest tenants on its page', async () => {
    const list = await web.client.get('/queues');
    expect(list.text).toMatch(
      />exports<\/a> <span class="state state-fair"[^>]*>fair<\/span> <span class="muted">3 tenants · 57 on tenant lists/,
    );
    const page = await web.client.get('/queues/exports');
    expect(page.status).toBe(200);
    const section = page.text.slice(page.text.indexOf('<section class="tenants"'));
    expect(section).toContain('<h2>Tenants <span class="muted">3</span></h2>');
    expect(section).toMatch(
      /<code>acme<\/code><\/td><td class="num">40<\/td><td class="num">3<\/td>.*<code>initech<\/code><\/td><td class="num">12<\/td>.*<code>globex<\/code>/s,
    );
    const mail = await web.client.get('/queues/mail');
    expect(mail.text).not.toContain('class="tenants"');
  });

  it('carries the same in the JSON API', async () => {
    const queues = (await web.client.get('/api/queues')).json<{
      queues: Array<{ name: string; fair?: { tenants: number; jobs: number } }>;
    }>();
    expect(queues.queues.find((q) => q.name === 'exports')?.fair).toMatchObject({ tenants: 3, jobs: 57 });
    const queue = (await web.client.get('/api/queues/exports')).json<{
      tenants: { tenants: number; busiest: Array<{ tenant: string; size: number; weight: number }> };
    }>();
    expect(queue.tenants.busiest[0]).toEqual({ tenant: 'acme', size: 40, weight: 3 });
  });
});
