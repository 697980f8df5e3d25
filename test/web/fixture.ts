import type { Redis } from 'ioredis';
import { Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { newFailure, writeFailures } from '../integration/failure-helpers.js';
import { before, registerWorker } from './client.js';

export const HOSTILE = [
  '<script>window.__pwned=1</script>',
  '<img src=x onerror="window.__pwned=2">',
  'javascript:alert(1)',
  '"><svg onload=alert(3)>',
];

/**
 * A namespace with what every page shows: queues (one of 45 jobs, one with hostile arguments, one empty), 30
 * failures (two classes, two errors), four workers on two hosts (working, idle, stuck, dead) and Resque's counters.
 */
export async function seed(redis: Redis, url: string, namespace: string): Promise<void> {
  const keys = new Keys(namespace);
  const resque = new Resque({ redis: url, namespace });
  try {
    await resque.enqueueBulk(
      'Mailer',
      Array.from({ length: 45 }, (_, i) => [i, `user${i}@example.com`]),
      { queue: 'mail' },
    );
    await resque.enqueueTo('mail', 'Cleanup', 'tmp');
    await resque.enqueueTo('hostile', 'Evil', ...HOSTILE);
    await resque.watchQueue('empty');
  } finally {
    await resque.close();
  }
  const failures = Array.from({ length: 30 }, (_, i) =>
    newFailure({
      className: i % 3 === 0 ? 'Export' : 'Mailer',
      args: [i, i % 3 === 0 ? 'report' : `user${i}@example.com`],
      error: i % 3 === 0 ? `upstream timed out after ${i} ms` : 'mailbox full',
      exception: i % 3 === 0 ? 'TimeoutError' : 'MailError',
      queue: 'mail',
      worker: 'web-1:100:mail',
      failedAt: new Date(Date.now() - (30 - i) * 1000),
    }),
  );
  failures.push(
    newFailure({ className: 'Evil', args: HOSTILE, error: HOSTILE[0]!, exception: 'XSS', queue: 'hostile' }),
  );
  await writeFailures(redis, namespace, failures);
  await redis.set(keys.processed, 1234);
  await redis.set(keys.failedCount, 31);
  const now = before(0);
  await registerWorker(redis, namespace, 'web-1:100:mail', {
    heartbeat: now,
    processed: 40,
    failed: 3,
    job: { queue: 'mail', runAt: before(5000), payload: '{"class":"Mailer","args":[99,"busy@example.com"]}' },
  });
  await registerWorker(redis, namespace, 'web-1:101:mail', { heartbeat: now });
  await registerWorker(redis, namespace, 'web-2:200:*', {
    heartbeat: now,
    job: { queue: 'mail', runAt: before(30 * 60_000), payload: '{"class":"Export","args":[1,"slow"]}' },
  });
  await registerWorker(redis, namespace, 'web-2:201:*', { heartbeat: before(10 * 60_000) });
}
