// Redis settings that can lose jobs are named, against real servers started with those settings.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRedisSafety } from '../../src/api/redis-safety.js';
import { RedisUnsafeError, Worker } from '../../src/index.js';
import type { Logger } from '../../src/logging/logger.js';
import { resqueInProcess } from '../harness/cli-in-process.js';
import { uniqueNamespace } from '../harness/context.js';
import { spawnWorker } from '../harness/processes.js';
import { type RedisServer, removeDir, startRedis } from '../harness/redis-server.js';
import { serve } from '../web/client.js';

describe('checkRedisSafety', () => {
  let evicting: RedisServer;
  let durable: RedisServer;
  let snapshots: RedisServer;
  let locked: RedisServer;
  const clients: Redis[] = [];
  const connect = (server: RedisServer, options: { username?: string; password?: string } = {}) => {
    const client = new Redis({
      port: server.port,
      host: '127.0.0.1',
      maxRetriesPerRequest: 1,
      enableReadyCheck: false,
      ...options,
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    // The harness starts servers with `--save ''` and `--appendonly no`: nothing persisted unless asked.
    [evicting, durable, snapshots, locked] = await Promise.all([
      startRedis({ args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'] }),
      startRedis({ appendOnly: true }),
      startRedis({ args: ['--save', '3600 1'] }),
      startRedis({ args: ['--maxmemory-policy', 'volatile-lru', '--rename-command', 'CONFIG', ''] }),
    ]);
  });

  afterAll(async () => {
    for (const client of clients) client.disconnect();
    for (const server of [evicting, durable, snapshots, locked]) {
      await server?.stop();
      if (server) removeDir(server.dir);
    }
  });

  it('names an evicting policy and a Redis that persists nothing', async () => {
    const safety = await checkRedisSafety(connect(evicting));
    expect(safety).toMatchObject({
      maxmemoryPolicy: 'allkeys-lru',
      maxmemoryBytes: 64 * 1024 * 1024,
      appendOnly: false,
      saveRules: '',
    });
    expect(safety.risks.map((r) => r.code)).toEqual(['EVICTION_POLICY', 'NO_PERSISTENCE']);
    expect(safety.risks[0]!.message).toContain('"allkeys-lru"');
    expect(safety.risks[0]!.message).toContain('noeviction');
    expect(safety.risks[1]!.message).toContain('appendonly yes');
  });

  it('is quiet about noeviction with AOF, and about RDB snapshots alone', async () => {
    expect(await checkRedisSafety(connect(durable))).toMatchObject({
      maxmemoryPolicy: 'noeviction',
      appendOnly: true,
      risks: [],
    });
    expect(await checkRedisSafety(connect(snapshots))).toMatchObject({
      appendOnly: false,
      saveRules: '3600 1',
      risks: [],
    });
  });

  it('reads the policy from INFO when CONFIG is renamed away, and says nothing of what it cannot read', async () => {
    const safety = await checkRedisSafety(connect(locked));
    expect(safety).toMatchObject({
      maxmemoryPolicy: 'volatile-lru',
      appendOnly: false,
      saveRules: undefined,
    });
    expect(safety.risks.map((r) => r.code)).toEqual(['EVICTION_POLICY']);
  });

  it('handles a user whose ACL forbids CONFIG and INFO', async () => {
    const admin = connect(evicting);
    await admin.call('ACL', 'SETUSER', 'app', 'on', '>secret', '~*', '&*', '+@all', '-config', '-info');
    const safety = await checkRedisSafety(connect(evicting, { username: 'app', password: 'secret' }));
    expect(safety).toEqual({
      maxmemoryPolicy: undefined,
      maxmemoryBytes: undefined,
      appendOnly: undefined,
      saveRules: undefined,
      risks: [],
    });
  });

  it('resque info prints the warnings, and includes them under --json', async () => {
    const [json, human, quiet] = await Promise.all([
      resqueInProcess(['info', '--json', '--redis', evicting.url]),
      resqueInProcess(['info', '--redis', evicting.url]),
      resqueInProcess(['info', '--json', '--redis', durable.url]),
    ]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { warnings: Array<{ code: string }>; pending: number };
    expect(parsed.pending).toBe(0);
    expect(parsed.warnings.map((w) => w.code)).toEqual(['EVICTION_POLICY', 'NO_PERSISTENCE']);
    expect(human.stdout).toMatch(/^warning: Redis maxmemory-policy is "allkeys-lru"/m);
    expect(human.stdout).toMatch(/^warning: Redis persists nothing/m);
    expect(JSON.parse(quiet.stdout).warnings).toEqual([]);
  });

  it('the dashboard names the risks on Stats → Redis and in its API, and says nothing on a safe Redis', async () => {
    const risky = await serve({ redis: evicting.url });
    const safe = await serve({ redis: durable.url });
    try {
      const page = (await risky.client.get('/stats/redis')).text;
      expect(page).toContain('<section class="risks" role="alert"><h2>This Redis can lose jobs</h2>');
      expect(page).toContain(
        '<li data-risk="EVICTION_POLICY">Redis maxmemory-policy is &quot;allkeys-lru&quot;',
      );
      expect(page).toContain('<li data-risk="NO_PERSISTENCE">Redis persists nothing');
      const api = (await risky.client.get('/api/redis')).json<{ warnings: Array<{ code: string }> }>();
      expect(api.warnings.map((w) => w.code)).toEqual(['EVICTION_POLICY', 'NO_PERSISTENCE']);
      const quiet = (await safe.client.get('/stats/redis')).text;
      expect(quiet).not.toContain('class="risks"');
      expect(quiet).toContain('<details class="info-section">');
    } finally {
      await risky.close();
      await safe.close();
    }
  });

  it('resque web says so when it starts', async () => {
    const [risky, safe] = await Promise.all([
      resqueInProcess(['web', '--redis', evicting.url, '--port', '0', '--seconds', '0.05']),
      resqueInProcess(['web', '--redis', durable.url, '--port', '0', '--seconds', '0.05']),
    ]);
    expect(risky.code).toBe(0);
    expect(risky.stdout).toMatch(
      /^resque web: dashboard at http:\/\/127\.0\.0\.1:\d+\/ on Redis redis:\/\/127\.0\.0\.1:\d+ \(from --redis\)/,
    );
    expect(risky.stderr.split('\n').filter((line) => line.startsWith('resque web: warning: '))).toHaveLength(
      2,
    );
    expect(safe.stderr).toBe('');
  });

  describe('a worker starting', () => {
    function lines(): { logger: Logger; warnings: string[] } {
      const warnings: string[] = [];
      const ignore = () => {};
      return {
        warnings,
        logger: { error: ignore, warn: (m) => warnings.push(m), info: ignore, debug: ignore },
      };
    }
    const workerOn = (server: RedisServer, logger: Logger, refuseUnsafeRedis = false) =>
      new Worker({
        redis: server.url,
        namespace: uniqueNamespace('safety'),
        queues: ['q'],
        jobs: [],
        logger,
        setProcessTitle: false,
        refuseUnsafeRedis,
      });

    it('logs each risk as a warning and starts', async () => {
      const { logger, warnings } = lines();
      const worker = workerOn(evicting, logger);
      await worker.start();
      await worker.stop('term');
      expect(warnings.filter((w) => w.startsWith('Redis maxmemory-policy is "allkeys-lru"'))).toHaveLength(1);
      expect(warnings.filter((w) => w.startsWith('Redis persists nothing'))).toHaveLength(1);
      expect(warnings.every((w) => !w.includes('Could not check'))).toBe(true);
    });

    it('with refuseUnsafeRedis refuses to start and leaves nothing registered; a safe Redis is fine', async () => {
      const worker = workerOn(evicting, lines().logger, true);
      const attempt = worker.start();
      await expect(attempt).rejects.toBeInstanceOf(RedisUnsafeError);
      await expect(attempt).rejects.toThrow(
        /^Refusing to start \(refuseUnsafeRedis\): Redis maxmemory-policy/,
      );
      await worker.finished;
      const check = connect(evicting);
      const { namespace } = worker.config;
      expect(await check.smembers(`${namespace}:workers`)).toEqual([]);
      expect(await check.hkeys(`${namespace}:workers:heartbeat`)).toEqual([]);

      const { logger, warnings } = lines();
      const fine = workerOn(durable, logger, true);
      await fine.start();
      expect(await connect(durable).sismember(`${fine.config.namespace}:workers`, fine.id)).toBe(1);
      await fine.stop('term');
      expect(warnings).toEqual([]);
    });

    it('starts quietly, refusing or not, when the server will not show its settings', async () => {
      const admin = connect(snapshots);
      await admin.call('ACL', 'SETUSER', 'worker', 'on', '>secret', '~*', '&*', '+@all', '-config', '-info');
      const url = snapshots.url.replace('redis://', 'redis://worker:secret@');
      const { logger, warnings } = lines();
      const worker = new Worker({
        redis: url,
        namespace: uniqueNamespace('safety'),
        queues: ['q'],
        jobs: [],
        logger,
        setProcessTitle: false,
        refuseUnsafeRedis: true,
      });
      await worker.start();
      await worker.stop('term');
      expect(warnings).toEqual([]);
    });

    it('resque work with RESQUE_REFUSE_UNSAFE_REDIS=1 exits with code 3 and one line naming the risks', async () => {
      const worker = spawnWorker({
        REDIS_URL: evicting.url,
        RESQUE_NAMESPACE: uniqueNamespace('safety'),
        QUEUES: 'q',
        RESQUE_REFUSE_UNSAFE_REDIS: '1',
      });
      expect(await worker.exited).toEqual({ code: 3, signal: null });
      const errors = worker
        .output()
        .split('\n')
        .filter((line) => line.startsWith('resque work: Refusing'));
      expect(errors).toEqual([
        expect.stringMatching(/maxmemory-policy is "allkeys-lru".*; Redis persists nothing/),
      ]);
    });
  });
});
