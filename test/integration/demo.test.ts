import { afterAll, describe, expect, it } from 'vitest';
import { ChargeCard, demoJobs, ExportReport, ResizeImage, SendWelcomeEmail } from '../../src/demo/jobs.js';
import { demoMix } from '../../src/demo/seed.js';
import { Admin, Resque } from '../../src/index.js';
import { performJob } from '../../src/jobs/perform.js';
import type { AnyJob } from '../../src/jobs/registry.js';
import { inlineResque } from '../../src/testing/index.js';
import { CLI_MAIN, finished, runCli, spawnTs } from '../harness/cli.js';
import { sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

describe('resque demo', () => {
  const namespace = uniqueNamespace('demo');
  const resque = new Resque({ redis: sharedRedisUrl(), namespace });
  afterAll(() => resque.close());

  it('enqueues the demo mix and reports queues, the next job of each and info', async () => {
    const result = await runCli([
      'demo',
      '--redis',
      sharedRedisUrl(),
      '--namespace',
      namespace,
      '--jobs',
      '10',
      '--seed-only',
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    const mix = demoMix(10);
    expect(report).toMatchObject({
      namespace,
      enqueued: 10,
      queues: { mail: mix.mail, images: mix.images, billing: mix.billing, reports: mix.reports },
      next: { mail: { class: 'Demo::SendWelcomeEmail', args: [1, 'user1@example.com'] } },
      info: { pending: 10, queues: 4 },
    });
    expect(await resque.queueSizes()).toEqual(report.queues);
  });

  it('replaces its own queued jobs when run again, and prints tables for people', async () => {
    const result = await runCli([
      'demo',
      '--redis',
      sharedRedisUrl(),
      '--namespace',
      namespace,
      '--jobs',
      '8',
      '--seed-only',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/enqueued 8 demo jobs/);
    expect(result.stdout).toMatch(/^QUEUE\s+SIZE\s+NEXT JOB$/m);
    expect(result.stdout).toMatch(/^pending\s+8$/m);
    expect(Object.values(await resque.queueSizes()).reduce((a, b) => a + b, 0)).toBe(8);
  });

  it('rejects a bad --jobs with the usage exit code', async () => {
    const result = await runCli([
      'demo',
      '--redis',
      sharedRedisUrl(),
      '--namespace',
      namespace,
      '--jobs',
      'many',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--jobs must be a positive integer/);
  });
});

describe('resque demo with workers and the dashboard', () => {
  const namespace = uniqueNamespace('demo-live');

  it('runs workers on the demo jobs, serves the dashboard at the printed URL and stops after --seconds', async () => {
    const child = spawnTs(CLI_MAIN, [
      'demo',
      '--redis',
      sharedRedisUrl(),
      '--namespace',
      namespace,
      '--jobs',
      '40',
      '--port',
      '0',
      '--seconds',
      '6',
      '--json',
    ]);
    const done = finished(child);
    const first = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.once('exit', () => reject(new Error('demo exited before printing its URL')));
    });
    const started = JSON.parse(first) as { url: string; namespace: string; workers: string[] };
    expect(started.namespace).toBe(namespace);
    expect(started.workers).toHaveLength(3);
    const page = await fetch(`${started.url}overview`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Throughput');
    const admin = new Admin({ redis: sharedRedisUrl(), namespace });
    try {
      await waitFor(async () => (await admin.counters()).processed > 0, 15_000, 'demo jobs processed');
      await waitFor(async () => (await admin.failures.count()) > 0, 15_000, 'a demo failure');
    } finally {
      await admin.close();
    }
    const result = await done;
    expect(result.code).toBe(0);
    expect((await fetch(`${started.url}overview`).catch(() => undefined))?.status).toBeUndefined();
  });
});

describe('demo jobs', () => {
  const inline = inlineResque({ jobs: demoJobs });
  afterAll(() => inline.close());

  it('has jobs that succeed, fail, fail for some arguments, and run slowly', async () => {
    await expect(inline.enqueue(SendWelcomeEmail, 1, 'a@example.com')).resolves.toBeTruthy();
    await expect(inline.enqueue(ResizeImage, 'a.jpg', 64, 5)).resolves.toBeTruthy();
    await expect(inline.enqueue(ChargeCard, 1, 996)).resolves.toBeTruthy();
    await expect(inline.enqueue(ChargeCard, 2, 2100)).rejects.toThrow(/card declined for order 2/);
    await expect(inline.enqueue(ExportReport, 'r-1')).rejects.toThrow(/could not export r-1/);
  });

  it('stops a slow job when its signal aborts', async () => {
    const controller = new AbortController();
    const running = performJob(
      ResizeImage as AnyJob,
      {
        id: undefined,
        queue: 'images',
        className: ResizeImage.className,
        attempt: 1,
        returns: 0,
        signal: controller.signal,
        workerId: 'test',
        progress: () => {},
        payload: { class: ResizeImage.className, args: ['a.jpg', 64, 3_600_000] },
      },
      ['a.jpg', 64, 3_600_000],
    );
    controller.abort();
    await expect(running).rejects.toThrow(/abort/i);
  });
});
