// The embedded redis-server: started by the CLI for `resque demo` and `--embedded-redis` (RESQUE_EMBEDDED_REDIS=1),
// with its data (AOF) in a project folder, stopped with the last command using it; found by library processes asked
// for it. Without it and without a Redis named, nothing on the default address is an error naming REDIS_URL.
import { type ChildProcess, spawn } from 'node:child_process';
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
import { FIXTURE_JOBS } from '../harness/processes.js';

const PATH = process.env['PATH'] ?? '';

import { removeDir } from '../harness/redis-server.js';

const Ping = defineJob({ className: 'Ping', queue: 'private', perform: async (_ctx, _n: number) => {} });
const HOLD = fileURLToPath(new URL('../fixtures/cli/hold-private-redis.ts', import.meta.url));
const DIST_INDEX = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
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

describe('the embedded redis-server from the CLI', () => {
  it('runs a command with --embedded-redis on a server under ./.resque-data and stops it on exit', async () => {
    const cwd = tempDir();
    const result = await runCli(['info', '--json', '--embedded-redis'], { cwd, env: envWithoutRedis() });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(
      /^resque: embedded redis-server at redis:\/\/127\.0\.0\.1:\d+ \(started; data in .*\.resque-data;/,
    );
    const info = JSON.parse(result.stdout) as { servers: string[] };
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(info.servers[0]!)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(6379);
    expect(existsSync(join(cwd, '.resque-data', 'appendonlydir'))).toBe(true);
    expect(await redisAnswers('127.0.0.1', port)).toBe(false);
  });

  it('takes RESQUE_EMBEDDED_REDIS=1 as --embedded-redis, and --embedded-redis over REDIS_URL', async () => {
    const dataDir = tempDir();
    const byEnv = await runCli(['info', '--json'], {
      env: envWithoutRedis({ RESQUE_EMBEDDED_REDIS: '1', RESQUE_DATA_DIR: dataDir }),
    });
    expect(byEnv.code).toBe(0);
    expect(byEnv.stderr).toContain(`data in ${dataDir}`);
    const overUrl = await runCli(['info', '--json', '--embedded-redis'], {
      env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', RESQUE_DATA_DIR: dataDir },
    });
    expect(overUrl.code).toBe(0);
    expect(overUrl.stderr).toContain(`data in ${dataDir}`);
  });

  it('refuses --embedded-redis beside --redis (exit 2), before starting anything', async () => {
    const dataDir = tempDir();
    const result = await runCli(['info', '--redis', 'redis://127.0.0.1:1', '--embedded-redis'], {
      env: envWithoutRedis({ RESQUE_DATA_DIR: dataDir }),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/give --redis or --embedded-redis, not both/);
    expect(existsSync(join(dataDir, 'redis.pid'))).toBe(false);
  });

  it('fails with exit code 3 and the install command when redis-server is missing', async () => {
    const result = await runCli(['info', '--embedded-redis'], {
      cwd: tempDir(),
      env: envWithoutRedis({ PATH: tempDir() }),
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/redis-server is not installed/);
    expect(result.stderr).toMatch(/sudo apt-get install -y redis-server/);
  });

  it('is where resque demo runs unless a Redis is named, and its hint finds it again', async () => {
    const cwd = tempDir();
    const demo = await runCli(['demo', '--seed-only', '--jobs', '12'], { cwd, env: envWithoutRedis() });
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(
      /^Redis redis:\/\/127\.0\.0\.1:\d+ \(embedded\), namespace "resque-demo": enqueued 12/,
    );
    const hint = /Inspect again with: resque (.*)$/m.exec(demo.stdout)?.[1];
    expect(hint).toBe('info --embedded-redis --namespace resque-demo');
    const again = await runCli([...hint!.split(' '), '--json'], { cwd, env: envWithoutRedis() });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ pending: 12 });
  });

  it('is found by a library process with RESQUE_EMBEDDED_REDIS=1 while a command keeps it running', async () => {
    const dataDir = tempDir();
    const namespace = uniqueNamespace('embedded-lib');
    const child = spawnTs(HOLD, [], { env: envWithoutRedis({ RESQUE_DATA_DIR: dataDir }) });
    const done = finished(child);
    const url = await serverUrlOf(child);
    const script = [
      `import { Resque } from ${JSON.stringify(DIST_INDEX)};`,
      `const resque = new Resque({ namespace: ${JSON.stringify(namespace)} });`,
      "await resque.enqueueTo('private', 'Ping', 1);",
      'console.log(resque.config.redis, resque.config.redisSource);',
      'await resque.close();',
    ].join('\n');
    const app = await finished(
      spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: envWithoutRedis({ RESQUE_EMBEDDED_REDIS: '1', RESQUE_DATA_DIR: dataDir }),
      }),
    );
    expect(app.stderr).toBe('');
    expect(app.stdout.trim()).toBe(`${url} embedded`);
    expect(await queued(url, namespace)).toBe(1);
    child.kill('SIGTERM');
    await done;
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('stops the server when the CLI gets %s', async (signal, exitCode) => {
    const dataDir = tempDir();
    const child = spawnTs(HOLD, [], { env: envWithoutRedis({ RESQUE_DATA_DIR: dataDir }) });
    const done = finished(child);
    const port = Number(new URL(await serverUrlOf(child)).port);
    expect(await redisAnswers('127.0.0.1', port)).toBe(true);
    child.kill(signal);
    const result = await done;
    expect(result.code).toBe(exitCode);
    expect(await redisAnswers('127.0.0.1', port)).toBe(false);
    expect(readFileSync(join(dataDir, 'redis.log'), 'utf8')).toMatch(/ready to exit/);
  });
});

describe.skipIf(defaultRedisAnswers)('with no Redis named and nothing on 127.0.0.1:6379', () => {
  it.each([
    [['info'], 'resque info'],
    [['web', '--port', '0', '--seconds', '30'], 'resque web'],
    [['work', '--require', FIXTURE_JOBS, '--queues', 'q'], 'resque work'],
    [['scheduler', '--seconds', '30'], 'resque scheduler'],
  ])('%j is an error naming REDIS_URL (exit 3), and no redis-server is started', async (args, prefix) => {
    const cwd = tempDir();
    const result = await runCli(args, { cwd, env: envWithoutRedis() });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      new RegExp(`^${prefix}: Cannot reach Redis at redis://127\\.0\\.0\\.1:6379`),
    );
    expect(result.stderr).toContain('set REDIS_URL (or --redis) to your Redis, or use --embedded-redis');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(cwd, '.resque-data'))).toBe(false);
  });

  it('is the same error, with the same advice, for a library process', async () => {
    const resque = new Resque({ namespace: uniqueNamespace('no-redis') });
    expect(resque.config.redisSource).toBe('default');
    await expect(resque.size('q')).rejects.toThrow(
      /Cannot reach Redis at redis:\/\/127\.0\.0\.1:6379: .*set REDIS_URL/,
    );
    await resque.close();
  });
});

/** The URL the hold fixture prints once its server answers. */
async function serverUrlOf(child: ChildProcess): Promise<string> {
  let line = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    line += chunk.toString();
  });
  await waitFor(() => line.includes('\n'), 15_000, 'the private server URL');
  return line.trim().split(' ')[0]!;
}
