// Redis settings that can lose jobs are named, against real servers started with those settings.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRedisSafety } from '../../src/api/redis-safety.js';
import { resqueInProcess } from '../harness/cli-in-process.js';
import { type RedisServer, removeDir, startRedis } from '../harness/redis-server.js';

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
});
