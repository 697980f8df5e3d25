// An idle worker with every slot free waits with its next reservation call already in Redis, behind the wait on its
// wake lists (Waker.waitThenReserve): a wake-up is answered with the job, with no round trip of its own. A call
// Redis could not run as sent (the script cache flushed, the stored queue list gone) is sent again the usual way.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineJob, JobRegistry, Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { Worker } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { removeDir, startRedis } from '../harness/redis-server.js';

const workers: Worker[] = [];
const clients: Resque[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(workers.splice(0).map((w) => w.stop('term')));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

const ran: number[] = [];
/** Reservation calls sent the usual way, counted when each job starts. */
const callsAtStart = new Map<number, number>();
let countCalls = () => 0;
const Pick = defineJob({
  className: 'WaitReservePick',
  queue: 'picks',
  perform: async (_ctx, n: number) => {
    callsAtStart.set(n, countCalls());
    ran.push(n);
  },
});

async function idleWorker(namespace: string, queues: string[], url = sharedRedisUrl()): Promise<Worker> {
  const worker = new Worker({
    redis: url,
    namespace,
    queues,
    // Long enough that only a wake-up can explain a pickup.
    intervalMs: 120_000,
    jobs: new JobRegistry([Pick]),
    isolation: 'none',
    setProcessTitle: false,
    logLevel: 'silent',
  });
  workers.push(worker);
  await Promise.all([new Promise<void>((resolve) => worker.once('idle', () => resolve())), worker.start()]);
  return worker;
}

function client(namespace: string, url = sharedRedisUrl()): Resque {
  const resque = new Resque({ redis: url, namespace });
  clients.push(resque);
  return resque;
}

describe('a reservation waiting behind the wake-up wait', () => {
  it('takes the job that wakes the worker without a reservation call of its own', async () => {
    const namespace = uniqueNamespace('wait-reserve');
    await idleWorker(namespace, ['picks']);
    const reserve = vi.spyOn(Fetcher.prototype, 'reserve');
    const complete = vi.spyOn(Fetcher.prototype, 'complete');
    countCalls = () => reserve.mock.calls.length;
    ran.length = 0;
    await client(namespace).enqueue(Pick, 1);
    await waitFor(() => ran.includes(1), 15_000, 'job 1');
    // Job 1 came in the wait's reply; the call sent after it acknowledges job 1 and finds nothing.
    expect(callsAtStart.get(1)).toBe(0);
    expect(complete).toHaveBeenCalledTimes(1);
    await waitFor(() => reserve.mock.calls.length === 1, 15_000, 'the acknowledgement');
    await client(namespace).enqueue(Pick, 2);
    await waitFor(() => ran.includes(2), 15_000, 'job 2');
    expect(callsAtStart.get(2)).toBe(1);
  });

  it('is sent again the usual way when Redis lost the script or the stored queue list while it waited', async () => {
    const namespace = uniqueNamespace('wait-reserve-lost');
    // Its own server: a SCRIPT FLUSH must not reach other tests.
    const server = await startRedis();
    const redis = rawRedis(server.url);
    const blocked = async () => Number(/blocked_clients:(\d+)/.exec(await redis.info('clients'))?.[1]);
    try {
      const queues = ['picks', 'a', 'b', 'c'];
      await idleWorker(namespace, queues, server.url);
      ran.length = 0;
      await redis.script('FLUSH');
      await client(namespace, server.url).enqueueTo('picks', Pick, 3);
      await waitFor(() => ran.includes(3), 15_000, 'job 3 after SCRIPT FLUSH');
      await waitFor(async () => (await blocked()) === 1, 15_000, 'waiting again');
      const keys = new Keys(namespace);
      await redis.del(keys.queueList(new QueuePatterns(queues).storedList.digest));
      await client(namespace, server.url).enqueueTo('picks', Pick, 4);
      await waitFor(() => ran.includes(4), 15_000, 'job 4 after the stored list went');
      expect(ran).toEqual([3, 4]);
      await Promise.all(workers.splice(0).map((w) => w.stop('term')));
      await Promise.all(clients.splice(0).map((c) => c.close()));
    } finally {
      await redis.quit();
      await server.stop();
      removeDir(server.dir);
    }
  });
});
