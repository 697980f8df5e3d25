// Health probes for real: a supervised `resque work` with --health-port (and --metrics-port on the same port) on a
// Redis of its own, probed while it runs, while Redis is down, while it shuts down; and `resque health`, the exec
// probe, judging it by its liveness beat in Redis, before and after a kill -9.
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { ReadAhead } from '../../src/worker/supervisor/read-ahead.js';
import { resqueInProcess } from '../harness/cli-in-process.js';
import { uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';
import { sample } from '../harness/prometheus.js';
import { freePort, type RedisServer, removeDir, startRedis } from '../harness/redis-server.js';

let redis: RedisServer;
const started: WorkerProcess[] = [];
const LIVENESS = { RESQUE_LIVENESS_INTERVAL: '0.5', RESQUE_LIVENESS_TIMEOUT: '2' };
const saved = Object.fromEntries(Object.keys(LIVENESS).map((name) => [name, process.env[name]]));

beforeAll(async () => {
  redis = await startRedis({ appendOnly: true });
  // `resque health` in this process judges by the same liveness timeout as the workers below.
  Object.assign(process.env, LIVENESS);
});
afterEach(() => {
  for (const worker of started.splice(0)) worker.child.kill('SIGKILL');
});
afterAll(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await redis.stop();
  removeDir(redis.dir);
});

function startWorker(namespace: string, port: number): WorkerProcess {
  const worker = spawnWorker(
    {
      REDIS_URL: redis.url,
      RESQUE_NAMESPACE: namespace,
      QUEUES: 'q',
      INTERVAL: '0.2',
      COUNT: '1',
      ...LIVENESS,
      RESQUE_REAPER_INTERVAL: '1',
      RESQUE_LISTEN_HOST: '127.0.0.1',
    },
    ['--metrics-port', String(port), '--health-port', String(port)],
  );
  started.push(worker);
  return worker;
}

interface Probe {
  status: number;
  body: { ok: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> };
}

async function probe(port: number, path: '/livez' | '/readyz'): Promise<Probe | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
    return { status: response.status, body: (await response.json()) as Probe['body'] };
  } catch {
    return undefined;
  }
}

const check = (p: Probe | undefined, name: string) => p?.body.checks.find((c) => c.name === name);

const health = (namespace: string, ...args: string[]) =>
  resqueInProcess(['health', '--redis', redis.url, '--namespace', namespace, ...args]);

describe('health probes of a running worker', () => {
  it('are ready and live; unready but live while Redis is down; unready while shutting down', async () => {
    const namespace = uniqueNamespace('probes');
    const port = await freePort();
    const worker = startWorker(namespace, port);
    // A supervised worker's child takes a while to load on a busy machine.
    const ready = await waitFor(
      async () => {
        const answer = await probe(port, '/readyz');
        return answer?.status === 200 ? answer : undefined;
      },
      45_000,
      '/readyz 200',
    );
    expect(ready.body.checks.map((c) => [c.name, c.ok])).toEqual([
      ['state', true],
      ['redis', true],
      ['liveness-beat', true],
    ]);
    const live = await probe(port, '/livez');
    expect(live?.status).toBe(200);
    expect(check(live, 'event-loop')?.ok).toBe(true);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(sample(metrics, 'resque_worker_children', { state: 'ready' })).toBe(1);
    // One child at concurrency 1: its slot and the slots of the jobs reserved ahead of it.
    expect(sample(metrics, 'resque_worker_slots', { state: 'idle' })).toBe(1 + new ReadAhead(1).slots);

    const alive = await health(namespace);
    expect(alive.code).toBe(0);
    expect(alive.stdout).toMatch(/^alive: \S+:\d+:q \(beat \d+\.\d s ago\)\n$/);
    const json = JSON.parse((await health(namespace, '--json')).stdout) as {
      ok: boolean;
      workers: Array<{ id: string; rule: string; alive: boolean; timeoutMs: number }>;
    };
    expect(json.ok).toBe(true);
    expect(json.workers).toEqual([
      expect.objectContaining({
        id: expect.stringContaining(`:${worker.pid}:q`),
        rule: 'liveness',
        alive: true,
        timeoutMs: 2000,
      }),
    ]);

    await redis.stop();
    const down = await waitFor(
      async () => {
        const answer = await probe(port, '/readyz');
        return answer?.status === 503 ? answer : undefined;
      },
      15_000,
      '/readyz 503 without Redis',
    );
    expect(check(down, 'redis')).toMatchObject({ ok: false });
    expect(check(down, 'state')).toMatchObject({ ok: true });
    // Past the liveness timeout without a beat, still live: a restart would not bring Redis back.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const stillLive = await probe(port, '/livez');
    expect(stillLive?.status).toBe(200);
    expect(check(stillLive, 'liveness-beat')?.detail).toMatch(/Redis is unreachable/);
    expect((await health(namespace)).code).toBe(3);

    await redis.restart();
    await waitFor(async () => (await probe(port, '/readyz'))?.status === 200, 20_000, '/readyz 200 again');

    const resque = new Resque({ redis: redis.url, namespace });
    await resque.enqueueTo('q', 'Slow', 1, 4000);
    await waitFor(
      async () =>
        sample(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(), 'resque_worker_slots', {
          state: 'busy',
        }) === 1,
      15_000,
      'the slow job running',
    );
    worker.signal('SIGQUIT');
    const stopping = await waitFor(
      async () => {
        const answer = await probe(port, '/readyz');
        return answer?.status === 503 ? answer : undefined;
      },
      5000,
      '/readyz 503 while shutting down',
    );
    expect(check(stopping, 'state')).toEqual({ name: 'state', ok: false, detail: 'shutting down' });
    expect((await probe(port, '/livez'))?.status).toBe(200);
    expect(await worker.exited).toMatchObject({ code: 0 });
    // Its log, written to a pipe, is JSON lines.
    const logged = worker
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        pid: worker.pid,
        msg: expect.stringMatching(/^Lost the connection to Redis/),
      }),
    );
    await resque.close();
    const gone = await health(namespace);
    expect(gone).toMatchObject({
      code: 1,
      stdout: expect.stringMatching(/^dead: no resque-ts worker registered for host /),
    });
  });
});

describe('resque health', () => {
  it('says a worker killed with kill -9 is dead once its beat is older than the liveness timeout', async () => {
    const namespace = uniqueNamespace('probes');
    const port = await freePort();
    const worker = startWorker(namespace, port);
    await waitFor(async () => (await probe(port, '/readyz'))?.status === 200, 45_000, '/readyz 200');
    expect((await health(namespace, '--pid', String(worker.pid))).code).toBe(0);
    expect((await health(namespace, '--pid', '1')).code).toBe(1);
    const id = (JSON.parse((await health(namespace, '--json')).stdout) as { workers: Array<{ id: string }> })
      .workers[0]!.id;
    expect((await health(namespace, '--worker', id)).code).toBe(0);
    worker.child.kill('SIGKILL');
    const dead = await waitFor(
      async () => {
        const answer = await health(namespace, '--worker', id);
        return answer.code === 1 ? answer : undefined;
      },
      10_000,
      'resque health to say dead',
    );
    expect(dead.stdout).toMatch(
      new RegExp(
        `^dead: ${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(last beat \\d+\\.\\d s ago, dead after 2 s\\)\\n$`,
      ),
    );
    expect(JSON.parse((await health(namespace, '--worker', id, '--json')).stdout)).toMatchObject({
      ok: false,
      workers: [{ id, rule: 'liveness', alive: false }],
    });
  });

  it('warns when delayed jobs are overdue (no process promotes them), without failing the probe for that', async () => {
    const namespace = uniqueNamespace('probes-overdue');
    const direct = new Redis(redis.url);
    const second = Math.floor(Date.now() / 1000) - 3600;
    await direct.zadd(`${namespace}:delayed_queue_schedule`, second, String(second));
    await direct.rpush(`${namespace}:delayed:${second}`, '{"class":"Late","args":[],"queue":"q"}');
    const answer = await health(namespace);
    expect(answer.code).toBe(1);
    expect(answer.stdout).toMatch(/^warning: 1 delayed job\(s\) overdue, the earliest by \d+ s: no process/m);
    expect(JSON.parse((await health(namespace, '--json')).stdout)).toMatchObject({
      delayedOverdue: { jobs: 1, exact: true },
    });
    direct.disconnect();
  });
});
