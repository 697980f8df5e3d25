// Ruby Resque 3.0 prunes dead workers when it starts (docs/protocol.md, Pruning). Its same-host rule splits each id
// on ":", and unregisters an id whose host is its own hostname and whose pid is not among the `ps` lines that look
// like Resque workers. This test runs that algorithm, as Ruby 3.0 runs it, against live resque-ts workers (in-process
// and supervised, several slots each) and asserts that it would unregister none of their slots.
import { execFileSync } from 'node:child_process';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/protocol/keys.js';
import { parseResqueTime } from '../../src/protocol/time.js';
import { ReadAhead } from '../../src/worker/supervisor/read-ahead.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';

const PRUNE_INTERVAL_MS = 300_000;

/** Ruby 3.0's `Worker#worker_pids` on Linux: `ps -A -o pid,command`, lines that look like Resque workers. */
function rubyWorkerPids(): string[] {
  const output = execFileSync('ps', ['-A', '-o', 'pid,command'], { encoding: 'utf8' });
  return output
    .split('\n')
    .filter((line) => /resque:work|resque:\sStarting|resque-[0-9]/.test(line) && !/resque-web/.test(line))
    .map((line) => line.trim().split(/\s+/)[0]!);
}

/** Ruby 3.0's `Worker#prune_dead_workers` for a Ruby worker on this host with `queues`: the ids it would unregister. */
async function rubyPrune(redis: Redis, keys: Keys, queues: string[]): Promise<string[]> {
  const all = await redis.smembers(keys.workers);
  const known = rubyWorkerPids();
  const [seconds] = await redis.time();
  const now = Number(seconds) * 1000;
  const beats = await redis.hgetall(keys.heartbeats);
  const expired = Object.entries(beats)
    .filter(([, value]) => {
      const beat = parseResqueTime(value);
      return beat !== undefined && now - beat.getTime() > PRUNE_INTERVAL_MS;
    })
    .map(([id]) => id);
  const pruned = [...expired];
  for (const id of all) {
    if (expired.includes(id)) continue;
    const [host, pid, queuesRaw] = id.split(':');
    const workerQueues = new Set((queuesRaw ?? '').split(','));
    const sameQueues = workerQueues.size === new Set(queues).size && queues.every((q) => workerQueues.has(q));
    if (!(queues.includes('*') || sameQueues)) continue;
    if (host !== hostname()) continue;
    if (known.includes(pid ?? '')) continue;
    pruned.push(id);
  }
  return pruned;
}

let redis: Redis;
const workers: WorkerProcess[] = [];
beforeAll(() => {
  redis = rawRedis();
});
afterEach(async () => {
  for (const worker of workers.splice(0)) {
    worker.signal('SIGQUIT');
    await worker.exited;
  }
});
afterAll(async () => {
  await redis.quit();
});

describe('Ruby 3.0’s start-up pruning beside live resque-ts workers', () => {
  it('unregisters none of their slots, in-process or supervised, on the same host and queues or on *', {
    timeout: 60_000,
  }, async () => {
    const keys = new Keys(uniqueNamespace('ruby-prune'));
    const env = { REDIS_URL: sharedRedisUrl(), RESQUE_NAMESPACE: keys.namespace, QUEUES: 'mail,reports' };
    workers.push(spawnWorker({ ...env, RESQUE_ISOLATION: 'none', CONCURRENCY: '3' }));
    workers.push(spawnWorker({ ...env, RESQUE_ISOLATION: 'process', COUNT: '2', CONCURRENCY: '2' }));
    // 3 in-process; 2 children × (2 running + 8 reserved ahead) supervised (docs/architecture.md, Jobs reserved ahead).
    const SLOTS = 3 + 2 * (2 + new ReadAhead(2).slots);
    const slots = await waitFor(
      async () => {
        const ids = await redis.smembers(keys.workers);
        return ids.length === SLOTS ? ids : undefined;
      },
      30_000,
      `${SLOTS} registered slots`,
    );
    // The negative control: release 0.1.0's slot ids (`pid-n`) are what this rule used to unregister.
    const oldStyle = `${hostname()}:${workers[0]!.pid}-1:mail,reports`;
    await redis.sadd(keys.workers, oldStyle);
    for (const queues of [['*'], ['mail', 'reports']]) {
      expect(await rubyPrune(redis, keys, queues)).toEqual([oldStyle]);
    }
    expect(slots.filter((id) => id.split(':')[0] !== hostname())).toHaveLength(SLOTS - 2);
  });
});
