// A worker blocked on its wake lists stops at once, even after its wake connection was cut and came back (CLIENT
// UNBLOCK may then name the old connection; QUIT would wait behind the BLPOP for the whole poll interval). On a
// private server: the test cuts every blocked connection.
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { Worker } from '../../src/worker/worker.js';
import { rawRedis, waitFor } from '../harness/context.js';
import { removeDir, startRedis } from '../harness/redis-server.js';

const POLL_MS = 60_000;

async function blockedClients(redis: Redis): Promise<string[]> {
  const list = (await redis.client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes('cmd=blpop') && / flags=\w*b/.test(line))
    .map((line) => /id=(\d+)/.exec(line)?.[1] ?? '')
    .filter((id) => id !== '');
}

describe('stopping an idle worker', () => {
  it('does not wait for the poll interval after its wake connection came back', async () => {
    const server = await startRedis();
    const redis = rawRedis(server.url);
    const worker = new Worker({
      redis: server.url,
      queues: ['only'],
      intervalMs: POLL_MS,
      jobs: [],
      setProcessTitle: false,
      logLevel: 'silent',
    });
    try {
      await worker.start();
      const before = await waitFor(async () => {
        const ids = await blockedClients(redis);
        return ids.length > 0 ? ids : undefined;
      }, 15_000);
      for (const id of before) await redis.client('KILL', 'ID', id);
      // It blocks again, on a new connection.
      await waitFor(async () => (await blockedClients(redis)).some((id) => !before.includes(id)), 15_000);
      const started = Date.now();
      await worker.stop('graceful');
      expect(Date.now() - started).toBeLessThan(POLL_MS / 2);
    } finally {
      await worker.stop('term');
      await redis.quit();
      await server.stop();
      removeDir(server.dir);
    }
  }, 60_000);
});
