// The admin commands as real processes (`node dist/cli/main.js …`, from the build `npm test` makes first) against a real Redis, in
// human and --json form, with the exit codes scripts rely on (2 bad arguments, 1 not found, 3 Redis unreachable).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished } from '../harness/cli.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { freePort } from '../harness/redis-server.js';
import { newFailure, writeFailures } from '../integration/failure-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

async function resque(args: string[]) {
  const env = { ...process.env };
  delete env['REDIS_URL'];
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return finished(child);
}

// Never rebuilt here: other test files run processes from dist/ at the same time, and a child importing a module
// that a build is rewriting fails to load.
beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error('dist is missing: run `npm run build` first');
});

describe('resque enqueue, dequeue, queues, queue clear', () => {
  const redis = rawRedis();
  const namespace = uniqueNamespace('cli-queues');
  const at = ['--redis', sharedRedisUrl(), '--namespace', namespace];
  afterAll(() => redis.disconnect());

  it('enqueues JSON arguments and lists queues with sizes and latency', async () => {
    const enqueued = await resque([
      'enqueue',
      'Archive',
      '44',
      '"masterbrew"',
      '{"a":[1.5]}',
      '--queue',
      'files',
      ...at,
      '--json',
    ]);
    expect(enqueued.stderr).toBe('');
    expect(enqueued.code).toBe(0);
    expect(JSON.parse(enqueued.stdout)).toMatchObject({
      queue: 'files',
      class: 'Archive',
      args: [44, 'masterbrew', { a: [1.5] }],
    });
    const [raw] = await redis.lrange(`${namespace}:queue:files`, 0, -1);
    expect(raw).toMatch(
      /^\{"class":"Archive","args":\[44,"masterbrew",\{"a":\[1\.5\]\}\],"id":"[0-9a-f]+","enqueued_at":/,
    );
    expect((await resque(['enqueue', 'Archive', '--queue', 'files', ...at, '--', '-1'])).code).toBe(0);

    const human = await resque(['queues', ...at]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^QUEUE\s+SIZE\s+OLDEST WAITING/);
    expect(human.stdout).toMatch(/files\s+2\s+\d+s/);
    const [files] = JSON.parse((await resque(['queues', ...at, '--json'])).stdout);
    expect(files).toMatchObject({ name: 'files', size: 2 });
    expect(files.latencyMs).toBeGreaterThanOrEqual(0);
    expect(new Date(files.oldestEnqueuedAt).getTime()).toBeGreaterThan(0);
  });

  it('dequeues by class and JSON args, then clears a queue', async () => {
    const dequeued = await resque([
      'dequeue',
      'Archive',
      '44',
      '"masterbrew"',
      '{"a":[1.5]}',
      '--queue',
      'files',
      ...at,
      '--json',
    ]);
    expect(dequeued.code).toBe(0);
    expect(JSON.parse(dequeued.stdout)).toMatchObject({ queue: 'files', removed: 1 });
    const cleared = await resque(['queue', 'clear', 'files', ...at, '--json']);
    expect(JSON.parse(cleared.stdout)).toEqual({ queue: 'files', removed: 1 });
    expect(await redis.llen(`${namespace}:queue:files`)).toBe(0);
    expect(await redis.sismember(`${namespace}:queues`, 'files')).toBe(1);
    expect((await resque(['queue', 'clear', 'files', ...at])).stdout).toBe('cleared files: 0 jobs removed\n');
  });

  it('rejects bad JSON arguments and bad command lines with 2, unknown queues with 1', async () => {
    const badJson = await resque(['enqueue', 'Archive', 'masterbrew', '--queue', 'files', ...at, '--json']);
    expect(badJson.code).toBe(2);
    expect(badJson.stdout).toBe('');
    expect(JSON.parse(badJson.stderr).error.message).toContain('argument 1 is not JSON');
    expect((await resque(['enqueue', 'Archive', '1', ...at])).code).toBe(2);
    expect((await resque(['enqueue', 'Archive', '1', '--queue', 'a,b', ...at])).code).toBe(2);
    expect((await resque(['queues', '--bogus', ...at])).code).toBe(2);
    expect((await resque(['queue', 'drop', 'files', ...at])).code).toBe(2);

    const unknown = await resque(['queue', 'clear', 'nope', ...at, '--json']);
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stderr)).toEqual({
      error: { code: 'QUEUE_NOT_FOUND', message: 'No queue "nope"' },
    });
    expect((await resque(['dequeue', 'Archive', '--queue', 'nope', ...at])).code).toBe(1);
  });

  it('exits 3 when Redis cannot be reached', async () => {
    const down = await resque(['queues', '--redis', `redis://127.0.0.1:${await freePort()}`, '--json']);
    expect(down.code).toBe(3);
    expect(JSON.parse(down.stderr).error.code).toBe('REDIS_CONNECTION');
  });
});

describe('resque workers', () => {
  const redis = rawRedis();
  const namespace = uniqueNamespace('cli-workers');
  afterAll(() => redis.disconnect());

  it('shows who is doing what, since when, and the last heartbeat', async () => {
    const busy = 'web-1:4242:critical,default';
    const idle = 'web-2:77:*';
    const now = new Date();
    const ruby = (d: Date) => d.toISOString().replace(/\.\d+Z$/, '+00:00');
    await redis
      .pipeline()
      .sadd(`${namespace}:workers`, busy, idle)
      .set(
        `${namespace}:worker:${busy}`,
        `{"queue":"default","run_at":"${now.toISOString().replace(/\.\d+Z$/, 'Z')}","payload":{"class":"Archive","args":[1]}}`,
      )
      .set(`${namespace}:worker:${busy}:started`, '2026-11-27 21:39:58 +0000')
      .hset(`${namespace}:workers:heartbeat`, busy, ruby(now), idle, '2020-01-01T00:00:00+00:00')
      .set(`${namespace}:stat:processed:${busy}`, '12')
      .set(`${namespace}:stat:failed:${busy}`, '2')
      .exec();
    const at = ['--redis', sharedRedisUrl(), '--namespace', namespace];
    const json = await resque(['workers', ...at, '--json']);
    expect(json.code).toBe(0);
    const [first, second] = JSON.parse(json.stdout);
    expect(first).toMatchObject({
      id: busy,
      host: 'web-1',
      pid: '4242',
      queues: ['critical', 'default'],
      state: 'working',
      job: { queue: 'default', className: 'Archive', args: [1] },
      startedAt: '2026-11-27T21:39:58.000Z',
      stale: false,
      processed: 12,
      failed: 2,
    });
    expect(second).toMatchObject({ id: idle, state: 'idle', job: null, stale: true, processed: 0 });
    const human = await resque(['workers', ...at]);
    expect(human.stdout).toMatch(/web-1:4242\s+critical,default\s+working\s+default Archive/);
    expect(human.stdout).toMatch(/web-2:77\s+\*\s+idle \(stale\)/);
  });
});

describe('resque failed', () => {
  const redis = rawRedis();
  const namespace = uniqueNamespace('cli-failed');
  const at = ['--redis', sharedRedisUrl(), '--namespace', namespace];
  afterAll(() => redis.disconnect());

  beforeAll(async () => {
    const failures = Array.from({ length: 6 }, (_, i) =>
      newFailure({
        className: i % 2 === 0 ? 'Archive' : 'Mailer',
        args: [i],
        queue: i % 3 === 0 ? 'files' : 'mail',
        error: `boom ${i}`,
        failedAt: new Date(Date.UTC(2026, 10, 27, 10, i)),
      }),
    );
    await writeFailures(redis, namespace, failures, { release: 'v2.3.0' });
  });

  async function list(...args: string[]) {
    const result = await resque(['failed', 'list', ...args, ...at, '--json']);
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as {
      failures: Array<{ id: string; args: number[]; retriedAt: string | null }>;
      total: number | null;
    };
  }

  it('lists newest first, filters, and pages', async () => {
    const all = await list();
    expect(all.total).toBe(6);
    expect(all.failures.map((f) => f.args[0])).toEqual([5, 4, 3, 2, 1, 0]);
    expect((await list('--class', 'Mailer', '--order', 'asc')).failures.map((f) => f.args[0])).toEqual([
      1, 3, 5,
    ]);
    expect((await list('--queue', 'files', '--limit', '1')).failures.map((f) => f.args[0])).toEqual([3]);
    const human = await resque(['failed', 'list', '--limit', '2', ...at]);
    expect(human.stdout).toMatch(/^ID\s+FAILED AT\s+QUEUE\s+CLASS/);
    expect(human.stdout).toContain('(1-2 of 6, newest first, more follow)');
  });

  it('shows, retries and removes one failure by id', async () => {
    const [newest] = (await list('--limit', '1')).failures;
    const shown = await resque(['failed', 'show', newest!.id, ...at, '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id: newest!.id,
      class: 'Mailer',
      args: [5],
      error: 'boom 5',
    });

    const retried = await resque(['failed', 'retry', newest!.id, ...at, '--json']);
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout)).toMatchObject({
      retried: 1,
      queue: 'mail',
      failure: { id: newest!.id },
    });
    expect(await redis.lrange(`${namespace}:queue:mail`, 0, -1)).toEqual(['{"class":"Mailer","args":[5]}']);
    expect((await list('--retried')).failures.map((f) => f.args[0])).toEqual([5]);

    const removed = await resque(['failed', 'remove', newest!.id, ...at]);
    expect(removed.stdout).toBe(`removed ${newest!.id}\n`);
    const again = await resque(['failed', 'remove', newest!.id, ...at, '--json']);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr).error.code).toBe('FAILURE_NOT_FOUND');
    expect((await resque(['failed', 'show', 'failed:0:0000000000', ...at])).code).toBe(1);
    expect((await resque(['failed', 'show', 'no-such-id', ...at])).code).toBe(1);
  });

  it('retries in bulk by class, lists groups, clears retried', async () => {
    const retried = await resque(['failed', 'retry', '--class', 'Archive', ...at, '--json']);
    expect(JSON.parse(retried.stdout)).toMatchObject({ retried: 3 });
    const groups = await resque(['failed', 'groups', ...at, '--json']);
    const parsed = JSON.parse(groups.stdout) as Array<{
      className: string;
      count: number;
      firstRelease: string;
      message: string;
    }>;
    expect(parsed.map((g) => [g.className, g.count, g.firstRelease, g.message]).sort()).toEqual([
      ['Archive', 3, 'v2.3.0', 'boom <n>'],
      ['Mailer', 3, 'v2.3.0', 'boom <n>'],
    ]);
    const human = await resque(['failed', 'groups', '--sort', 'count', ...at]);
    expect(human.stdout).toMatch(/^GROUP\s+COUNT\s+LAST SEEN/);
    const cleared = await resque(['failed', 'clear', '--retried', ...at, '--json']);
    expect(JSON.parse(cleared.stdout)).toMatchObject({ removed: 3 });
    expect((await list()).failures.map((f) => f.args[0])).toEqual([3, 1]);
  });

  it('rejects bad arguments with 2', async () => {
    for (const args of [
      ['failed', 'retry'],
      ['failed', 'retry', 'failed:0:0000000000', '--all'],
      ['failed', 'list', '--limit', 'ten'],
      ['failed', 'list', '--order', 'sideways'],
      ['failed', 'show', 'x', '--order', 'asc'],
      ['failed', 'explode'],
      ['failed', 'list', '--nope'],
    ]) {
      const result = await resque([...args, ...at, '--json']);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
    }
  });

  it('reports progress on stderr for long bulk operations', async () => {
    const bulk = uniqueNamespace('cli-bulk');
    await writeFailures(
      redis,
      bulk,
      Array.from({ length: 2500 }, (_, i) => newFailure({ args: [i] })),
      { groups: false },
    );
    const result = await resque(['failed', 'retry', '--all', '--redis', sharedRedisUrl(), '-N', bulk]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('retried 2500 failures\n');
    const lines = result.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.at(-1)).toBe('retried 2500, read 2500 of 2500 (failed)');
    const cleared = await resque([
      'failed',
      'clear',
      '--all',
      '--redis',
      sharedRedisUrl(),
      '-N',
      bulk,
      '--json',
    ]);
    expect(JSON.parse(cleared.stdout)).toEqual({ removed: 2500, scanned: 2500 });
    expect(JSON.parse(cleared.stderr.trim().split('\n').at(-1)!).progress).toMatchObject({
      done: 2500,
      total: 2500,
    });
  });
});
