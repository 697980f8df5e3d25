// Unique jobs across OS processes: concurrent enqueues of one key from several processes push exactly one job, and
// the lock of a job whose worker was killed (kill -9) expires with its TTL, so the key can be enqueued again. Uses
// dist/ (run `npm run build` first).
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import { argsDigest } from '../../src/jobs/unique.js';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker } from '../harness/processes.js';

const ENQUEUER = fileURLToPath(new URL('../fixtures/unique-enqueue.mjs', import.meta.url));

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

interface Enqueuer {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<string>;
}

function startEnqueuer(env: Record<string, string>): Enqueuer {
  const child = spawn(process.execPath, [ENQUEUER], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.startsWith('ready\n')) markReady();
  });
  const result = new Promise<string>((resolve, reject) =>
    child.on('exit', (code) =>
      code === 0 ? resolve(output.slice('ready\n'.length).trim()) : reject(new Error(`exit ${code}`)),
    ),
  );
  return { child, ready, result };
}

describe('unique jobs across processes', () => {
  it('concurrent enqueues of one key from several processes push exactly one job, and all get its id', async () => {
    const keys = new Keys(uniqueNamespace('unique-race'));
    const goKey = keys.named('test:go');
    const env = { REDIS_URL: sharedRedisUrl(), RESQUE_NAMESPACE: keys.namespace, GO_KEY: goKey };
    const processes = Array.from({ length: 6 }, () => startEnqueuer(env));
    await Promise.all(processes.map((p) => p.ready));
    // Every process is connected and blocked on the gate: one push releases them all at once.
    await redis.rpush(goKey, ...processes.map(() => 'go'));
    const results = (await Promise.all(processes.map((p) => p.result))).flatMap(
      (line) => JSON.parse(line) as Array<{ id: string; duplicate?: boolean }>,
    );
    expect(results).toHaveLength(30);
    const fresh = results.filter((r) => !r.duplicate);
    expect(fresh).toHaveLength(1);
    expect(new Set(results.map((r) => r.id))).toEqual(new Set([fresh[0]?.id]));
    const queued = await redis.lrange(keys.queue('q'), 0, -1);
    expect(queued).toHaveLength(1);
    expect(JSON.parse(queued[0]!).id).toBe(fresh[0]?.id);
    const lock = keys.uniqueLock(`Sync:${argsDigest([{ account: 7, full: true }])}`);
    expect(await redis.get(lock)).toBe(fresh[0]?.id);
  }, 60_000);

  it('the lock of a job whose worker was killed (kill -9) expires after its TTL; the key can be enqueued again', async () => {
    const namespace = uniqueNamespace('unique-crash');
    const keys = new Keys(namespace);
    // The fixture's Hang never finishes; the TTL travels in the payload, so the client's definition sets it.
    const Hang = defineJob({
      className: 'Hang',
      queue: 'q',
      unique: { mode: 'until-finished', lockTtlMs: 1_500 },
      perform: (_ctx, _n: number) => {},
    });
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const lock = keys.uniqueLock(`Hang:${argsDigest([1])}`);
    const worker = spawnWorker({
      REDIS_URL: sharedRedisUrl(),
      RESQUE_NAMESPACE: namespace,
      QUEUES: 'q',
      INTERVAL: '0.2',
    });
    try {
      const first = await resque.enqueue(Hang, 1);
      await waitFor(() => redis.hget(`${namespace}:test:hung`, '1'), 20_000, 'the job to start');
      expect(await redis.get(lock)).toBe(first?.id);
      worker.signal('SIGKILL');
      await worker.exited;
      expect(await resque.enqueue(Hang, 1)).toMatchObject({ id: first?.id, duplicate: true });
      // No worker is left to give the job back: only the TTL frees the key.
      await waitFor(async () => (await redis.exists(lock)) === 0, 20_000, 'the lock to expire');
      const second = await resque.enqueue(Hang, 1);
      expect(second?.duplicate).toBeUndefined();
      expect(second?.id).not.toBe(first?.id);
      expect(await redis.get(lock)).toBe(second?.id);
    } finally {
      worker.signal('SIGKILL');
      await resque.close();
    }
  }, 60_000);
});
