// The CLI's embedded default: a private redis-server started when no Redis is configured and none answers on
// 127.0.0.1:6379, with its data (AOF) in a project folder, stopped with the CLI.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisNotInstalledError } from '../../src/errors/index.js';
import { defineJob, Resque } from '../../src/index.js';
import { redisAnswers, startPrivateRedis } from '../../src/redis/private-server.js';
import { envWithoutRedis, finished, runCli, spawnTs } from '../harness/cli.js';
import { uniqueNamespace, waitFor } from '../harness/context.js';

const PATH = process.env['PATH'] ?? '';

import { removeDir } from '../harness/redis-server.js';

const Ping = defineJob({ className: 'Ping', queue: 'private', perform: async (_ctx, _n: number) => {} });
const HOLD = fileURLToPath(new URL('../fixtures/cli/hold-private-redis.ts', import.meta.url));
const defaultRedisAnswers = await redisAnswers('127.0.0.1', 6379);

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'resque-ts-private-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

async function queued(url: string, namespace: string): Promise<number> {
  const resque = new Resque({ redis: url, namespace });
  try {
    return await resque.size('private');
  } finally {
    await resque.close();
  }
}

describe('private redis-server', () => {
  it('starts with AOF in its folder, serves a client, stops, and comes back with its data', async () => {
    const dataDir = tempDir();
    const namespace = uniqueNamespace('private');
    const server = await startPrivateRedis({ dataDir, searchPath: PATH });
    expect(server.started).toBe(true);
    expect(server.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(server.port).not.toBe(6379);
    const resque = new Resque({ redis: server.url, namespace });
    await resque.enqueue(Ping, 1);
    await resque.close();
    expect(await queued(server.url, namespace)).toBe(1);
    await server.stop();
    expect(await redisAnswers('127.0.0.1', server.port)).toBe(false);
    expect(existsSync(join(dataDir, 'appendonlydir'))).toBe(true);

    const again = await startPrivateRedis({ dataDir, searchPath: PATH });
    try {
      expect(await queued(again.url, namespace)).toBe(1);
    } finally {
      await again.stop();
    }
  });

  it('is shared by starts on the same folder and stopped by the last one to leave, whichever it is', async () => {
    const dataDir = tempDir();
    const first = await startPrivateRedis({ dataDir, searchPath: PATH });
    const second = await startPrivateRedis({ dataDir, searchPath: PATH });
    expect(second.started).toBe(false);
    expect(second.url).toBe(first.url);
    await second.stop();
    expect(await redisAnswers('127.0.0.1', first.port)).toBe(true);
    await first.stop();
    expect(await redisAnswers('127.0.0.1', first.port)).toBe(false);

    const starter = await startPrivateRedis({ dataDir, searchPath: PATH });
    const joiner = await startPrivateRedis({ dataDir, searchPath: PATH });
    expect(starter.started).toBe(true);
    await starter.stop();
    expect(await redisAnswers('127.0.0.1', starter.port)).toBe(true);
    await joiner.stop();
    expect(await redisAnswers('127.0.0.1', starter.port)).toBe(false);
  });

  it('says how to install redis-server when it is not on the PATH', async () => {
    const attempt = startPrivateRedis({ dataDir: tempDir(), searchPath: tempDir() });
    await expect(attempt).rejects.toBeInstanceOf(RedisNotInstalledError);
    await expect(attempt).rejects.toThrow(/apt-get install -y redis-server/);
  });
});

describe.skipIf(defaultRedisAnswers)('the CLI with no Redis configured (nothing on 127.0.0.1:6379)', () => {
  it('runs a command on a private server under ./.resque-data and stops it on exit', async () => {
    const cwd = tempDir();
    const result = await runCli(['info', '--json'], { cwd, env: envWithoutRedis() });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /using a private redis-server at redis:\/\/127\.0\.0\.1:\d+ \(started; data in .*\.resque-data;/,
    );
    const info = JSON.parse(result.stdout) as { servers: string[] };
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(info.servers[0]!)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(6379);
    expect(existsSync(join(cwd, '.resque-data', 'appendonlydir'))).toBe(true);
    expect(await redisAnswers('127.0.0.1', port)).toBe(false);
  });

  it('fails with exit code 3 and the install command when redis-server is missing', async () => {
    const result = await runCli(['info'], { cwd: tempDir(), env: envWithoutRedis({ PATH: tempDir() }) });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/redis-server is not installed/);
    expect(result.stderr).toMatch(/sudo apt-get install -y redis-server/);
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('stops the server when the CLI gets %s', async (signal, exitCode) => {
    const dataDir = tempDir();
    const child = spawnTs(HOLD, [], { env: envWithoutRedis({ RESQUE_DATA_DIR: dataDir }) });
    const done = finished(child);
    let line = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      line += chunk.toString();
    });
    await waitFor(() => line.includes('\n'), 15_000, 'the private server URL');
    const [url] = line.trim().split(' ');
    const port = Number(new URL(url!).port);
    expect(await redisAnswers('127.0.0.1', port)).toBe(true);
    child.kill(signal);
    const result = await done;
    expect(result.code).toBe(exitCode);
    expect(await redisAnswers('127.0.0.1', port)).toBe(false);
    expect(readFileSync(join(dataDir, 'redis.log'), 'utf8')).toMatch(/ready to exit/);
  });
});
