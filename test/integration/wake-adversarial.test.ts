// Wake-ups under adverse conditions: wake-ups racing reservations and stops, Redis restarting under blocked workers,
// pause and resume around a wait, queues announced together, wake-ups nobody can use; and the glob rules wake.lua
// and reserve.lua test, against fnmatch. Each job must be taken without waiting for the poll interval (two minutes
// here), and no token may bounce between workers for ever. Tests that count blocked clients use a private Redis.
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineJob, JobRegistry, Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';
import { type RedisServer, removeDir, startRedis } from '../harness/redis-server.js';
import { readTitle } from '../harness/supervised.js';

const POLL_MS = 120_000;

const workers: Worker[] = [];
const clients: Resque[] = [];
const connections: Redis[] = [];
const servers: RedisServer[] = [];
const spawned: WorkerProcess[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const worker of spawned.splice(0)) {
    worker.signal('SIGTERM');
    await worker.exited;
  }
  for (const release of holds.values()) release();
  holds.clear();
  await Promise.all(workers.splice(0).map((w) => w.stop('term')));
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const c of connections.splice(0)) c.disconnect();
  for (const s of servers.splice(0)) {
    await s.stop();
    removeDir(s.dir);
  }
});

function startWorker(
  url: string,
  namespace: string,
  options: Omit<WorkerOptions, 'redis' | 'namespace' | 'jobs'>,
): Worker {
  const worker = new Worker({
    redis: url,
    namespace,
    setProcessTitle: false,
    logLevel: 'silent',
    isolation: 'none',
    intervalMs: POLL_MS,
    jobs: new JobRegistry([Note, Hold]),
    ...options,
  });
  workers.push(worker);
  return worker;
}

function client(url: string, namespace: string): Resque {
  const resque = new Resque({ redis: url, namespace });
  clients.push(resque);
  return resque;
}

function raw(url: string): Redis {
  const connection = rawRedis(url);
  connections.push(connection);
  return connection;
}

async function privateRedis(options: { appendOnly?: boolean } = {}): Promise<RedisServer> {
  const server = await startRedis(options);
  servers.push(server);
  return server;
}

/** Starts a worker and resolves once it has reserved, found nothing and gone to wait. */
async function startIdle(worker: Worker): Promise<void> {
  await Promise.all([new Promise<void>((resolve) => worker.once('idle', () => resolve())), worker.start()]);
}

/** Clients blocked in BLPOP on this (private) server: the idle workers' waits. */
async function blocked(redis: Redis): Promise<number> {
  const info = await redis.info('clients');
  return Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? -1);
}

const ran: Array<{ worker: string; n: number }> = [];
const Note = defineJob({
  className: 'AdvNote',
  queue: 'q',
  perform: async (ctx, n: number) => {
    ran.push({ worker: ctx.workerId, n });
  },
});

/** Runs until the test releases it (or the worker aborts it). */
const holds = new Map<number, () => void>();
const Hold = defineJob({
  className: 'AdvHold',
  queue: 'p',
  perform: async (ctx, n: number) => {
    ran.push({ worker: ctx.workerId, n });
    await new Promise<void>((resolve, reject) => {
      holds.set(n, resolve);
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
    });
  },
});

const ranJob = (n: number) => ran.find((r) => r.n === n);

describe('wake-ups that must not be lost', () => {
  it('a wake-up that arrives while a reservation on its way fills the last free slots passes on', async () => {
    const server = await privateRedis();
    const namespace = uniqueNamespace('adv-inflight');
    const keys = new Keys(namespace);
    const redis = raw(server.url);
    ran.length = 0;
    // A: two slots, `p` before `q`. It takes one held job and goes back to waiting with its other slot free.
    const a = startWorker(server.url, namespace, { queues: ['p', 'q'], concurrency: 2 });
    await startIdle(a);
    await client(server.url, namespace).enqueue(Hold, 1);
    await waitFor(() => holds.has(1), 15_000, 'A running job 1');
    await waitFor(async () => (await blocked(redis)) === 1, 15_000, 'A waiting again');
    // B waits on `q` after A, so Redis hands a wake-up for `q` to A first.
    const b = startWorker(server.url, namespace, { queues: ['q'] });
    await startIdle(b);
    await waitFor(async () => (await blocked(redis)) === 2, 15_000, 'B waiting');
    // Two jobs on `p` that nobody announces (a Ruby client's push): A's next reservation takes them.
    await redis.sadd(keys.queues, 'p');
    await redis.rpush(keys.queue('p'), '{"class":"AdvHold","args":[2]}', '{"class":"AdvHold","args":[3]}');
    // A's next reservation call is held on its way until the wake-up for `q` has reached A.
    const reserve = Fetcher.prototype.reserve;
    let arrived!: () => void;
    const onItsWay = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let gated = false;
    vi.spyOn(Fetcher.prototype, 'reserve').mockImplementation(async function (this: Fetcher, ...args) {
      if (!gated) {
        gated = true;
        arrived();
        await released;
      }
      return reserve.apply(this, args);
    });
    holds.get(1)!();
    await onItsWay;
    await client(server.url, namespace).enqueue(Note, 10);
    // A took the token (B still waits): A's wake handler has run, with a free slot as far as it could tell.
    await waitFor(async () => (await blocked(redis)) === 1, 15_000, 'A woken');
    await waitFor(async () => (await redis.llen(keys.queueWake('q'))) === 0, 15_000, 'the token taken');
    release();
    // The held call fills both of A's slots from `p`; the job on `q` is B's to take, at once.
    await waitFor(() => holds.has(2) && holds.has(3), 15_000, 'A running jobs 2 and 3');
    await waitFor(() => ranJob(10), 15_000, 'job 10, run by B without waiting for the poll interval');
    expect(ranJob(10)!.worker).toBe(b.id);
  });

  it('a worker whose slots filled while it waited hands the wake-up on', async () => {
    const server = await privateRedis();
    const namespace = uniqueNamespace('adv-full');
    const keys = new Keys(namespace);
    const redis = raw(server.url);
    ran.length = 0;
    const a = startWorker(server.url, namespace, { queues: ['p', 'q'], concurrency: 2 });
    await startIdle(a);
    await client(server.url, namespace).enqueue(Hold, 1);
    await waitFor(() => holds.has(1), 15_000, 'A running job 1');
    await waitFor(async () => (await blocked(redis)) === 1, 15_000, 'A waiting again');
    const b = startWorker(server.url, namespace, { queues: ['q'] });
    await startIdle(b);
    await waitFor(async () => (await blocked(redis)) === 2, 15_000, 'B waiting');
    // A's free slot and the one job 1 leaves are filled from `p` by A's next call, while its wait stays outstanding.
    await redis.sadd(keys.queues, 'p');
    await redis.rpush(keys.queue('p'), '{"class":"AdvHold","args":[2]}', '{"class":"AdvHold","args":[3]}');
    holds.get(1)!();
    await waitFor(() => holds.has(2) && holds.has(3), 15_000, 'A running jobs 2 and 3');
    expect(await blocked(redis)).toBe(2);
    const passOn = vi.spyOn(Fetcher.prototype, 'passOn');
    await client(server.url, namespace).enqueue(Note, 11);
    await waitFor(() => ranJob(11), 15_000, 'job 11, run by B');
    expect(ranJob(11)!.worker).toBe(b.id);
    // A, which waited longest, got the token and handed it on.
    expect(passOn).toHaveBeenCalledWith(['q']);
  });

  it('a worker on a glob is still woken after Redis restarts without its data', async () => {
    const server = await privateRedis();
    const namespace = uniqueNamespace('adv-restart-empty');
    const keys = new Keys(namespace);
    const redis = raw(server.url);
    ran.length = 0;
    const worker = startWorker(server.url, namespace, { queues: ['*'] });
    await startIdle(worker);
    await server.stop();
    await server.restart();
    // The worker registers again once its connection is back; its wait resumes on its own connection.
    await waitFor(
      async () => (await redis.sismember(keys.workers, worker.id)) === 1,
      20_000,
      'registered again',
    );
    await waitFor(async () => (await blocked(redis)) === 1, 20_000, 'waiting again');
    await client(server.url, namespace).enqueueTo('anything', Note, 20);
    await waitFor(() => ranJob(20), 15_000, 'job 20 without waiting for the poll interval');
  });

  for (const queues of [['q'], ['*']])
    it(`a worker on ${queues.join(',')} blocked while Redis restarts (AOF) keeps listening`, async () => {
      const server = await privateRedis({ appendOnly: true });
      const namespace = uniqueNamespace('adv-restart-aof');
      const redis = raw(server.url);
      ran.length = 0;
      const worker = startWorker(server.url, namespace, { queues });
      await startIdle(worker);
      await server.kill();
      await server.restart();
      await waitFor(async () => (await blocked(redis)) === 1, 20_000, 'the wait sent again');
      await client(server.url, namespace).enqueueTo('q', Note, 30);
      await waitFor(() => ranJob(30), 15_000, 'job 30 without waiting for the poll interval');
      // And the next one too: the worker goes back to waiting.
      await waitFor(async () => (await blocked(redis)) === 1, 20_000, 'waiting again');
      await client(server.url, namespace).enqueueTo('q', Note, 31);
      await waitFor(() => ranJob(31), 15_000, 'job 31');
    });

  it('a worker paused while it waits passes the wake-up on, and once resumed takes jobs at once', async () => {
    const server = await privateRedis();
    const namespace = uniqueNamespace('adv-pause');
    const keys = new Keys(namespace);
    const redis = raw(server.url);
    ran.length = 0;
    const passOn = vi.spyOn(Fetcher.prototype, 'passOn');
    const worker = startWorker(server.url, namespace, { queues: ['q'] });
    await startIdle(worker);
    await worker.pause();
    await client(server.url, namespace).enqueue(Note, 40);
    // A paused worker does not wait: the token stays on the list, and nobody passes it around.
    await waitFor(async () => (await redis.llen(keys.queueWake('q'))) === 1, 15_000, 'the token left');
    await waitFor(async () => (await blocked(redis)) === 0, 15_000, 'no wait while paused');
    expect(passOn).not.toHaveBeenCalled();
    expect(ran).toEqual([]);
    await worker.resume();
    await waitFor(() => ranJob(40), 15_000, 'job 40 after resume');
    await waitFor(async () => (await blocked(redis)) === 1, 15_000, 'waiting again');
    await client(server.url, namespace).enqueue(Note, 41);
    await waitFor(() => ranJob(41), 15_000, 'job 41');
  });

  it('real workers paused with USR2 hand wake-ups on, and after CONT take them again', async () => {
    const server = await privateRedis();
    const namespace = uniqueNamespace('adv-signals');
    const redis = raw(server.url);
    const spawn = () => {
      const started = spawnWorker({ REDIS_URL: server.url, RESQUE_NAMESPACE: namespace }, [
        '--queues',
        'q',
        '--isolation',
        'none',
        '--interval',
        String(POLL_MS / 1000),
      ]);
      spawned.push(started);
      return started;
    };
    const ledger = (n: number) => redis.hlen(`${namespace}:test:ledger:${n}`);
    const first = spawn();
    await waitFor(async () => (await blocked(redis)) === 1, 30_000, 'the first worker waiting');
    const second = spawn();
    await waitFor(async () => (await blocked(redis)) === 2, 30_000, 'the second worker waiting');
    const resque = client(server.url, namespace);
    // The first waited longest: paused, it gets the token and must hand it on.
    first.signal('SIGUSR2');
    await waitFor(async () => (await readTitle(first.pid)).includes('Paused'), 15_000, 'first paused');
    await resque.enqueueTo('q', 'Record', 1);
    await waitFor(async () => (await ledger(1)) === 1, 15_000, 'job 1, run by the second');
    // Resumed, the first waits again; now the second is paused.
    first.signal('SIGCONT');
    await waitFor(async () => (await readTitle(first.pid)).includes('Waiting'), 15_000, 'first waiting');
    second.signal('SIGUSR2');
    await waitFor(async () => (await readTitle(second.pid)).includes('Paused'), 15_000, 'second paused');
    for (let n = 2; n <= 4; n++) {
      await resque.enqueueTo('q', 'Record', n);
      await waitFor(async () => (await ledger(n)) === 1, 15_000, `job ${n}, run by the first`);
    }
    const runners = async (n: number) => Object.values(await redis.hgetall(`${namespace}:test:ledger:${n}`));
    expect(await runners(1)).toEqual([String(second.pid)]);
    for (let n = 2; n <= 4; n++) expect(await runners(n)).toEqual([String(first.pid)]);
  });

  it('paused workers leave a token on its list: no bouncing', async () => {
    const server = await privateRedis();
    const namespace = uniqueNamespace('adv-bounce');
    const keys = new Keys(namespace);
    const redis = raw(server.url);
    const reserveCalls = vi.spyOn(Fetcher.prototype, 'reserve');
    const passOn = vi.spyOn(Fetcher.prototype, 'passOn');
    const fleet = [0, 1, 2].map((i) =>
      startWorker(server.url, namespace, { queues: ['q'], hostname: `h${i}` }),
    );
    for (const w of fleet) await startIdle(w);
    for (const w of fleet) await w.pause();
    const before = reserveCalls.mock.calls.length;
    await client(server.url, namespace).enqueue(Note, 50);
    await waitFor(async () => (await blocked(redis)) === 0, 15_000, 'every wait ended');
    await waitFor(async () => (await redis.llen(keys.queueWake('q'))) === 1, 15_000, 'the token left');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(passOn).not.toHaveBeenCalled();
    expect(reserveCalls.mock.calls.length).toBe(before);
    expect(await redis.llen(keys.queue('q'))).toBe(1);
  });

  it('a wake-up that reaches a worker as it begins to stop is handed on', async () => {
    const server = await privateRedis();
    const namespace = uniqueNamespace('adv-stop-woken');
    const keys = new Keys(namespace);
    const redis = raw(server.url);
    ran.length = 0;
    const leaving = startWorker(server.url, namespace, { queues: ['p', 'q'] });
    await startIdle(leaving);
    const staying = startWorker(server.url, namespace, { queues: ['q'] });
    await startIdle(staying);
    await waitFor(async () => (await blocked(redis)) === 2, 15_000, 'both waiting');
    // A job on `p` nobody announces, and a reservation call of `leaving` (its resume after a pause) held on its way.
    await redis.sadd(keys.queues, 'p');
    await redis.rpush(keys.queue('p'), '{"class":"AdvNote","args":[61]}');
    await leaving.pause();
    const reserve = Fetcher.prototype.reserve;
    let arrived!: () => void;
    const onItsWay = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let gated = false;
    vi.spyOn(Fetcher.prototype, 'reserve').mockImplementation(async function (this: Fetcher, ...args) {
      if (!gated) {
        gated = true;
        arrived();
        await released;
      }
      return reserve.apply(this, args);
    });
    await leaving.resume();
    await onItsWay;
    // The wake-up for `q` reaches `leaving`, which waited longest.
    await client(server.url, namespace).enqueue(Note, 60);
    await waitFor(async () => (await blocked(redis)) === 1, 15_000, 'leaving woken');
    await waitFor(async () => (await redis.llen(keys.queueWake('q'))) === 0, 15_000, 'the token taken');
    const stopped = leaving.stop('graceful');
    release();
    await stopped;
    await waitFor(() => ranJob(60), 15_000, 'job 60, run by the staying worker');
    expect(ranJob(60)!.worker).toBe(staying.id);
    // The job the held call took from `p` went back untouched.
    expect(await redis.lrange(keys.queue('p'), 0, -1)).toEqual(['{"class":"AdvNote","args":[61]}']);
  });

  it('queues announced together wake a worker on a glob for each, one after another', async () => {
    const server = await privateRedis();
    const namespace = uniqueNamespace('adv-together');
    const keys = new Keys(namespace);
    const redis = raw(server.url);
    ran.length = 0;
    // Three hosts' workers with one list: one glob listener.
    const fleet = [0, 1, 2].map((i) =>
      startWorker(server.url, namespace, { queues: ['*'], hostname: `h${i}` }),
    );
    for (const w of fleet) await startIdle(w);
    await waitFor(async () => (await blocked(redis)) === 3, 15_000, 'three waiting');
    // A Ruby client fills three queues; one page of the repair pass announces them in one script, which leaves one
    // token, for `x`, on the glob listener's list.
    for (const [queue, n] of [
      ['x', 71],
      ['y', 72],
      ['z', 73],
    ] as const) {
      await redis.sadd(keys.queues, queue);
      await redis.rpush(keys.queue(queue), JSON.stringify({ class: 'AdvHold', args: [n] }));
    }
    const { syncQueueIndex } = await import('../../src/client/queue-index.js');
    expect((await syncQueueIndex(redis, keys, ['x', 'y', 'z'])).added).toBe(3);
    expect(await redis.lrange(keys.globWake('*'), 0, -1)).toEqual([]);
    await waitFor(() => holds.has(71) && holds.has(72) && holds.has(73), 15_000, 'all three jobs running');
    expect(new Set(ran.map((r) => r.worker)).size).toBe(3);
  });
});

describe('the glob listener registry', () => {
  async function tokensAfterPush(
    list: string[],
    queue: string,
  ): Promise<{ named: string[]; glob: string[] }> {
    const namespace = uniqueNamespace('adv-registry');
    const keys = new Keys(namespace);
    const redis = raw(sharedRedisUrl());
    const { QueuePatterns } = await import('../../src/worker/queue-patterns.js');
    const listener = new QueuePatterns(list).globListener;
    if (listener) await redis.hset(keys.wakeGlobs, listener.name, listener.rules);
    await client(sharedRedisUrl(), namespace).enqueueTo(queue, Note, 1);
    return {
      named: await redis.lrange(keys.queueWake(queue), 0, -1),
      glob: listener ? await redis.lrange(keys.globWake(listener.name), 0, -1) : [],
    };
  }

  it('critical,*: a push to critical reaches the named list only; others the glob list', async () => {
    expect(await tokensAfterPush(['critical', '*'], 'critical')).toEqual({ named: ['critical'], glob: [] });
    expect(await tokensAfterPush(['critical', '*'], 'other')).toEqual({ named: ['other'], glob: ['other'] });
  });

  it('*,!low: a push to low reaches no glob list', async () => {
    expect(await tokensAfterPush(['*', '!low'], 'low')).toEqual({ named: ['low'], glob: [] });
    expect(await tokensAfterPush(['*', '!low'], 'lower')).toEqual({ named: ['lower'], glob: ['lower'] });
  });

  it('a leading dot is covered only by a dot that starts a glob, as Ruby matches it', async () => {
    expect(await tokensAfterPush(['*'], '.hidden')).toEqual({ named: ['.hidden'], glob: [] });
    expect(await tokensAfterPush(['[.]*'], '.hidden')).toEqual({ named: ['.hidden'], glob: [] });
    expect(await tokensAfterPush(['[!x]*'], '.hidden')).toEqual({ named: ['.hidden'], glob: [] });
    expect(await tokensAfterPush(['.*'], '.hidden')).toEqual({ named: ['.hidden'], glob: ['.hidden'] });
    expect(await tokensAfterPush(['\\.h*'], '.hidden')).toEqual({ named: ['.hidden'], glob: ['.hidden'] });
  });
});

describe('glob rules in Lua against fnmatch', () => {
  /** Lua's answer for `name` against `pattern`, through wake.lua's own matcher. */
  async function luaMatches(redis: Redis, pattern: string, name: string): Promise<boolean> {
    const { readFileSync } = await import('node:fs');
    const { globRule } = await import('../../src/worker/glob-rule.js');
    const announce = readFileSync(new URL('../../src/redis/lua/wake.lua', import.meta.url), 'utf8');
    const script = `${announce}\nreturn matchesRule(ARGV[1], ARGV[2]) and 1 or 0`;
    return Number(await redis.eval(script, 0, name, globRule(pattern))) === 1;
  }

  it('agree on names and patterns holding Lua’s magic characters', async () => {
    const { fnmatch } = await import('../../src/worker/queue-patterns.js');
    const redis = raw(sharedRedisUrl());
    const names = [
      'a%b',
      '50%',
      '%d',
      'a-b',
      'a-',
      'x-y-z',
      'a.b',
      'aXb',
      'a(b)',
      'a(',
      ')',
      'a+b',
      'aab',
      'a^b',
      '^a',
      'a$b',
      'a$',
      'a%%b',
      'mail.high',
      'mail-high',
      'a\\b',
      '.a',
      '',
    ];
    const patterns = [
      'a%*',
      '*%',
      '%?',
      'a-*',
      '*-*',
      'a.b',
      'a.?',
      'a(*',
      '*)',
      'a+b',
      'a+*',
      '^*',
      '*^*',
      'a$*',
      '*$',
      'a%%b',
      'a\\%b',
      'a\\-b',
      'mail.*',
      'mail?high',
      '[%]*',
      '[!%]*',
      '[a%]*',
      '[-a]*',
      '[a-]*',
      '[.]*',
      '[(]*',
      '[$^]*',
      'a\\\\b',
      'a\\\\*',
      '?a',
      '*a',
    ];
    const wrong: string[] = [];
    for (const pattern of patterns)
      for (const name of names)
        if ((await luaMatches(redis, pattern, name)) !== fnmatch(pattern, name))
          wrong.push(`${pattern} ~ ${name}: fnmatch ${fnmatch(pattern, name)}`);
    expect(wrong).toEqual([]);
  });

  it('agree on class ranges that start or end with a character Lua escapes in a set', async () => {
    const { fnmatch } = await import('../../src/worker/queue-patterns.js');
    const redis = raw(sharedRedisUrl());
    const names = ['#x', '$x', '%x', '&x', '5x', '9x', ':x', '-x', ']x', '^x', '\\x', 'ax', 'bx'];
    const patterns = ['[%-9]*', '[#-%]*', '[%-%]*', '[!%-9]*', '[$-&]*', '[]-a]*', '[a%-9]*', '[%-&]*'];
    const wrong: string[] = [];
    for (const pattern of patterns)
      for (const name of names)
        if ((await luaMatches(redis, pattern, name)) !== fnmatch(pattern, name))
          wrong.push(`${pattern} ~ ${name}: fnmatch ${fnmatch(pattern, name)}`);
    expect(wrong).toEqual([]);
  });

  it('agree on `?` and negated classes over multibyte characters', async () => {
    const { fnmatch } = await import('../../src/worker/queue-patterns.js');
    const redis = raw(sharedRedisUrl());
    const names = ['é', 'éé', 'aé', 'éa', '😀', '😀x', 'x😀', '中文', '中', 'a', 'ab', '\uFFFD', 'ü.q'];
    const patterns = [
      '?',
      '??',
      'a?',
      '?a',
      '?x',
      'x?',
      '??*',
      '*?',
      '[!a]',
      '[!a]?',
      '[^a-z]*',
      '?.q',
      '?\\.q',
    ];
    const wrong: string[] = [];
    for (const pattern of patterns)
      for (const name of names)
        if ((await luaMatches(redis, pattern, name)) !== fnmatch(pattern, name))
          wrong.push(`${pattern} ~ ${name}: fnmatch ${fnmatch(pattern, name)}`);
    expect(wrong).toEqual([]);
  });
});
