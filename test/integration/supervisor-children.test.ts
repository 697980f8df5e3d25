// A supervised worker's children, one fixture job per behaviour (test/fixtures/child-jobs): each ends with the
// right record, the other jobs in flight stay intact, and the worker keeps serving.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker } from '../harness/processes.js';
import {
  awaitFailures,
  awaitPerformed,
  awaitStarted,
  childrenOf,
  failures,
  isAlive,
  kill,
  readyChildren,
  startSupervised,
} from '../harness/supervised.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.disconnect());

function client(namespace: string): Resque {
  return new Resque({ redis: sharedRedisUrl(), namespace });
}

describe('supervised children', () => {
  it('a child that cannot load the job modules stops the worker from starting, with the reason', async () => {
    const namespace = uniqueNamespace('broken');
    const module = new URL('../fixtures/child-jobs/broken-in-child.mjs', import.meta.url).pathname;
    const worker = spawnWorker(
      {
        REDIS_URL: sharedRedisUrl(),
        RESQUE_NAMESPACE: namespace,
        RESQUE_ISOLATION: 'process',
        COUNT: '1',
        QUEUES: 'q',
      },
      ['--require', module],
    );
    expect((await worker.exited).code).toBe(1);
    expect(worker.output()).toMatch(
      /A worker child process could not start: ModuleLoadError: Cannot load \S*broken-in-child\.mjs: Error: this module refuses to load in a child/,
    );
    expect(await redis.smembers(`${namespace}:workers`)).toEqual([]);
    expect(await redis.hlen(`${namespace}:workers:heartbeat`)).toBe(0);
  });

  it('a job that throws is an ordinary failure; the same child runs the next job', async () => {
    const namespace = uniqueNamespace('throws');
    const resque = client(namespace);
    const worker = startSupervised(namespace);
    const [child] = await readyChildren(worker);
    await resque.enqueueTo('q', 'Throws', 1);
    await resque.enqueueTo('q', 'Ok', 2);
    expect(await awaitPerformed(redis, namespace, 2)).toBe(child);
    const [record] = await failures(redis, namespace);
    expect(record).toMatchObject({ exception: 'TypeError', error: 'bad input 1', queue: 'q' });
    expect(record?.backtrace[0]).toContain('throws.mjs');
    expect(childrenOf(worker.pid)).toEqual([child]);
    await resque.close();
  });

  it('process.exit(3) fails that job with the exit code; the other job of the child goes back untouched', async () => {
    const namespace = uniqueNamespace('exits');
    const resque = client(namespace);
    const worker = startSupervised(namespace, { CONCURRENCY: '2' });
    const [child] = await readyChildren(worker);
    await resque.enqueueTo('q', 'Slow', 1, 1500);
    expect(await awaitStarted(redis, namespace, 1)).toBe(child);
    await resque.enqueueTo('q', 'Exits', 2, 3);
    const [record] = await awaitFailures(redis, namespace);
    expect(record?.exception).toBe('Resque::DirtyExit');
    expect(record?.error).toBe(
      `Child process exited with code 3 (pid ${child}): the job called process.exit(3)`,
    );
    expect(record?.payload).toMatchObject({ class: 'Exits', args: [2, 3] });
    // The Slow job went back to the head of its queue as it was (no "returns" mark) and runs again in a new child.
    const again = await waitFor(async () => {
      const held = await Promise.all(
        (await redis.keys(`${namespace}:ts:inflight:*`)).map((k) => redis.get(k)),
      );
      return held.find((value) => value?.includes('"class":"Slow"'));
    });
    expect(again).not.toContain('"returns"');
    const second = await awaitPerformed(redis, namespace, 1);
    expect(second).not.toBe(child);
    expect(isAlive(child!)).toBe(false);
    expect(await redis.llen(`${namespace}:failed`)).toBe(1);
    await resque.enqueueTo('q', 'Ok', 3);
    await awaitPerformed(redis, namespace, 3);
    await waitFor(async () => (await redis.get(`${namespace}:stat:processed`)) === '3');
    expect(await redis.get(`${namespace}:stat:failed`)).toBe('1');
    await resque.close();
  });

  it('an uncaught exception fails the job as a dirty exit, with its message and backtrace', async () => {
    const namespace = uniqueNamespace('crash');
    const resque = client(namespace);
    const worker = startSupervised(namespace);
    const [child] = await readyChildren(worker);
    await resque.enqueueTo('q', 'Crashes', 1);
    const [record] = await awaitFailures(redis, namespace);
    expect(record?.exception).toBe('Resque::DirtyExit');
    expect(record?.error).toBe(
      `Child process exited with code 1 (pid ${child}) after an uncaught RangeError: crashed on purpose 1`,
    );
    expect(record?.backtrace[0]).toContain('exits.mjs');
    await resque.enqueueTo('q', 'Ok', 2);
    expect(await awaitPerformed(redis, namespace, 2)).not.toBe(child);
    await resque.close();
  });

  it('a job past its timeout gets its AbortSignal, and its child is killed after the grace period', async () => {
    const namespace = uniqueNamespace('timeout');
    const resque = client(namespace);
    const worker = startSupervised(namespace, { RESQUE_JOB_TIMEOUT: '0.3', RESQUE_JOB_TIMEOUT_GRACE: '0.2' });
    const [child] = await readyChildren(worker);
    await resque.enqueueTo('q', 'Hangs', 1);
    const [record] = await awaitFailures(redis, namespace);
    expect(record?.exception).toBe('JobTimeoutError');
    expect(record?.error).toBe(
      `Job exceeded its timeout of 300 ms; it did not stop within 200 ms of its abort signal, so child ${child} was killed (SIGKILL)`,
    );
    await resque.enqueueTo('q', 'Ok', 2);
    const next = await awaitPerformed(redis, namespace, 2);
    expect(next).not.toBe(child);
    // A job that honours its signal stops in time: it fails as timed out, and its child stays.
    await resque.enqueueTo('q', 'Abortable', 3, 60_000);
    const [, second] = await awaitFailures(redis, namespace, 2);
    expect(second?.exception).toBe('JobTimeoutError');
    expect(second?.error).toBe('Job exceeded its timeout of 300 ms; it stopped after its abort signal fired');
    expect(childrenOf(worker.pid)).toEqual([next]);
    await resque.close();
  });

  it("a job class's own timeoutMs overrides the worker's (here: none)", async () => {
    const namespace = uniqueNamespace('class-timeout');
    const resque = client(namespace);
    const worker = startSupervised(namespace, { RESQUE_JOB_TIMEOUT_GRACE: '0.1' });
    await readyChildren(worker);
    await resque.enqueueTo('q', 'HangsBriefly', 1);
    const [record] = await awaitFailures(redis, namespace);
    expect(record?.error).toMatch(/^Job exceeded its timeout of 300 ms; it did not stop within 100 ms/);
    await resque.close();
  });

  it('past the soft memory limit a child finishes its job and is replaced', async () => {
    const namespace = uniqueNamespace('soft');
    const resque = client(namespace);
    const worker = startSupervised(namespace, { RESQUE_MEMORY_SOFT_LIMIT_MB: '200' });
    const [child] = await readyChildren(worker);
    await resque.enqueueTo('q', 'Bloats', 1, 300, 1000);
    expect(await awaitPerformed(redis, namespace, 1)).toBe(child);
    await resque.enqueueTo('q', 'Ok', 2);
    expect(await awaitPerformed(redis, namespace, 2)).not.toBe(child);
    expect(await redis.llen(`${namespace}:failed`)).toBe(0);
    expect(worker.output()).toMatch(
      new RegExp(
        `Child ${child} \\(#0\\) replaced \\(memory-soft\\): resident memory \\d+ MB passed the soft limit of 200 MB`,
      ),
    );
    await resque.close();
  });

  it('past the hard memory limit a child is killed and its job fails with the numbers', async () => {
    const namespace = uniqueNamespace('hard');
    const resque = client(namespace);
    const worker = startSupervised(namespace, { RESQUE_MEMORY_HARD_LIMIT_MB: '200' });
    const [child] = await readyChildren(worker);
    await resque.enqueueTo('q', 'Bloats', 1, 400, -1);
    const [record] = await awaitFailures(redis, namespace);
    expect(record?.exception).toBe('MemoryLimitError');
    expect(record?.error).toMatch(
      new RegExp(
        `^Child process used (\\d+) MB, past the hard memory limit of 200 MB; child ${child} was killed \\(SIGKILL\\) while running this job$`,
      ),
    );
    expect(Number(/used (\d+) MB/.exec(record!.error)?.[1])).toBeGreaterThan(200);
    await resque.enqueueTo('q', 'Ok', 2);
    expect(await awaitPerformed(redis, namespace, 2)).not.toBe(child);
    await resque.close();
  });

  it('after maxJobsPerChild jobs a child is replaced', async () => {
    const namespace = uniqueNamespace('max-jobs');
    const resque = client(namespace);
    const worker = startSupervised(namespace, { RESQUE_MAX_JOBS_PER_CHILD: '2' });
    await readyChildren(worker);
    for (let n = 1; n <= 5; n++) await resque.enqueueTo('q', 'Ok', n);
    const pids = [];
    for (let n = 1; n <= 5; n++) pids.push(await awaitPerformed(redis, namespace, n));
    expect(pids[0]).toBe(pids[1]);
    expect(pids[2]).toBe(pids[3]);
    expect(new Set(pids).size).toBe(3);
    expect(await redis.llen(`${namespace}:failed`)).toBe(0);
    await resque.close();
  });

  it('a job that prints a lot finishes, and the worker keeps serving', async () => {
    const namespace = uniqueNamespace('chatty');
    const resque = client(namespace);
    const worker = startSupervised(namespace, { VERBOSE: '' });
    const [child] = await readyChildren(worker);
    await resque.enqueueTo('q', 'Chatty', 1, 4096);
    await resque.enqueueTo('q', 'Ok', 2);
    expect(await awaitPerformed(redis, namespace, 1)).toBe(child);
    expect(await awaitPerformed(redis, namespace, 2)).toBe(child);
    await waitFor(() => worker.output().length >= 8 * 1024 * 1024, 20_000, 'the 8 MB it printed');
    expect(await redis.llen(`${namespace}:failed`)).toBe(0);
    await resque.close();
  });

  it('kill -9 of a child running two jobs: neither can be blamed, both go back counted and run again', async () => {
    const namespace = uniqueNamespace('kill-two');
    const resque = client(namespace);
    const worker = startSupervised(namespace, { CONCURRENCY: '2' });
    const [child] = await readyChildren(worker);
    await resque.enqueueTo('q', 'Slow', 1, 1000);
    await resque.enqueueTo('q', 'Slow', 2, 1000);
    await awaitStarted(redis, namespace, 1);
    await awaitStarted(redis, namespace, 2);
    kill(child!, 'SIGKILL');
    const pids = [await awaitPerformed(redis, namespace, 1), await awaitPerformed(redis, namespace, 2)];
    expect(pids.every((pid) => pid !== child)).toBe(true);
    expect(await redis.llen(`${namespace}:failed`)).toBe(0);
    expect(worker.output()).toContain('which one caused it is unknown');
    expect([
      await redis.hlen(`${namespace}:test:ledger:1`),
      await redis.hlen(`${namespace}:test:ledger:2`),
    ]).toEqual([1, 1]);
    await resque.close();
  });

  it('kill -9 of a child gives its job back counted, the spare takes it at once; after maxReturns it fails', async () => {
    const namespace = uniqueNamespace('kill-child');
    const resque = client(namespace);
    const worker = startSupervised(namespace, { RESQUE_SPARE: '1', RESQUE_MAX_RETURNS: '1' });
    const before = await readyChildren(worker, 2);
    await resque.enqueueTo('q', 'Slow', 1, 60_000);
    const victim = await awaitStarted(redis, namespace, 1);
    kill(victim, 'SIGKILL');
    // Nobody here sent the signal: not evidence against the job, which goes back marked "returns":1.
    const spare = before.find((pid) => pid !== victim)!;
    await waitFor(
      async () => Number(await redis.hget(`${namespace}:test:started`, '1')) === spare,
      20_000,
      'the spare',
    );
    expect(await redis.llen(`${namespace}:failed`)).toBe(0);
    expect(worker.output()).toContain(`Child ${victim} (#0) replaced (signal)`);
    // Killed again: it has been given back maxReturns (1) times, so now it fails, saying so.
    kill(spare, 'SIGKILL');
    const [record] = await awaitFailures(redis, namespace);
    expect(record?.exception).toBe('Resque::DirtyExit');
    expect(record?.error).toMatch(
      new RegExp(
        `^Child process received unhandled signal SIGKILL \\(signal 9, pid ${spare}\\); .*given back to its queue 1 times, and maxReturns is 1$`,
      ),
    );
    await resque.close();
  });
});
