import { afterAll, describe, expect, it } from 'vitest';
import { Keys, Resque } from '../../src/index.js';
import { CLI_MAIN, finished, spawnTs } from '../harness/cli.js';
import { resqueInProcess, terminalInput } from '../harness/cli-in-process.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { freePort } from '../harness/redis-server.js';

const fixture = (name: string) => new URL(`../fixtures/schedules/${name}`, import.meta.url).pathname;

describe('resque delayed / schedule / scheduler', () => {
  const redis = rawRedis();
  afterAll(() => redis.disconnect());
  const cli = (namespace: string, args: string[], stdin?: ReturnType<typeof terminalInput>) =>
    resqueInProcess([...args, '--redis', sharedRedisUrl(), '--namespace', namespace], { stdin });

  it('lists, counts, shows, queues now and clears delayed jobs, with --json', async () => {
    const namespace = uniqueNamespace('cli-delayed');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const T = 1_900_000_000_000;
    await resque.enqueueAtTo('q', T + 1000, 'Report', 1);
    await resque.enqueueAtTo('q', T + 1000, 'Report', 2);
    await resque.enqueueAtTo('q', T + 5000, 'Report', 3);
    await resque.close();
    const listed = await cli(namespace, ['delayed', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual({
      timestamps: [
        { timestamp: T / 1000 + 1, at: new Date(T + 1000).toISOString(), jobs: 2 },
        { timestamp: T / 1000 + 5, at: new Date(T + 5000).toISOString(), jobs: 1 },
      ],
      total: 2,
    });
    expect((await cli(namespace, ['delayed', 'count'])).stdout).toBe('3 delayed jobs at 2 timestamps\n');
    const at = JSON.parse((await cli(namespace, ['delayed', 'at', String(T / 1000 + 1), '--json'])).stdout);
    expect(at.jobs.map((j: { args: unknown[] }) => j.args)).toEqual([[1], [2]]);
    expect((await cli(namespace, ['delayed', 'remove', 'Report', '3', '--queue', 'q'])).stdout).toBe(
      'removed 1 delayed job\n',
    );
    expect((await cli(namespace, ['delayed', 'queue-now', String(T / 1000 + 1)])).stdout).toBe(
      'queued 2 jobs now\n',
    );
    expect(await redis.llen(new Keys(namespace).queue('q'))).toBe(2);
    await resque.close();
  });

  it('asks before clearing on a terminal, showing the count', async () => {
    const namespace = uniqueNamespace('cli-clear');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    await resque.enqueueAtTo('q', 1_900_000_000_000, 'Report', 1);
    await resque.close();
    const refused = await cli(namespace, ['delayed', 'clear'], terminalInput('n\n'));
    expect(refused.stderr).toContain('Remove every delayed job: 1 job? [y/N]');
    expect(refused.code).toBe(1);
    const done = await cli(namespace, ['delayed', 'clear'], terminalInput('y\n'));
    expect(done.stdout).toBe('cleared 1 timestamp\n');
  });

  it('adds, lists, disables, enables, runs and removes schedules; refuses bad ones with exit 2', async () => {
    const namespace = uniqueNamespace('cli-schedule');
    const add = await cli(namespace, [
      'schedule',
      'add',
      'nightly',
      '--cron',
      '0 3 * * * Europe/Paris',
      '--class',
      'Report',
      '--queue',
      'reports',
      '"full"',
    ]);
    expect(add).toMatchObject({ code: 0, stdout: 'scheduled nightly\n' });
    const again = await cli(namespace, ['schedule', 'add', 'nightly', '--every', '1h', '--queue', 'reports']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Schedule "nightly" is defined more than once');
    const bad = await cli(namespace, [
      'schedule',
      'add',
      'broken',
      '--cron',
      '99 * * * *',
      '--queue',
      'reports',
      '--json',
    ]);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stderr).error.code).toBe('INVALID_SCHEDULE');
    const listed = JSON.parse((await cli(namespace, ['schedule', 'list', '--json'])).stdout);
    expect(listed.master).toBeNull();
    expect(listed.schedules).toEqual([
      expect.objectContaining({
        name: 'nightly',
        enabled: true,
        interval: 'cron: 0 3 * * * Europe/Paris',
        queue: 'reports',
        args: ['full'],
      }),
    ]);
    expect(listed.schedules[0].nextRunMs).toBeGreaterThan(0);
    expect((await cli(namespace, ['schedule', 'disable', 'nightly'])).stdout).toBe('disabled nightly\n');
    expect((await cli(namespace, ['schedule', 'enable', 'nightly'])).stdout).toBe('enabled nightly\n');
    expect((await cli(namespace, ['schedule', 'run', 'nightly'])).stdout).toBe('enqueued nightly\n');
    const keys = new Keys(namespace);
    expect(await redis.lrange(keys.queue('reports'), 0, -1)).toEqual([
      expect.stringMatching(/^\{"class":"Report","args":\["full"\]/),
    ]);
    expect(await redis.hget(keys.lastEnqueuedAt, 'nightly')).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000$/,
    );
    expect((await cli(namespace, ['schedule', 'remove', 'nightly'])).stdout).toBe('removed nightly\n');
  });

  it('resque scheduler refuses a schedule file naming a schedule twice', async () => {
    const namespace = uniqueNamespace('cli-scheduler');
    const result = await cli(namespace, [
      'scheduler',
      '--schedule',
      fixture('duplicate.yml'),
      '--seconds',
      '1',
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Schedule "nightly" is defined more than once');
  });

  it('resque scheduler runs a schedule file as master and releases the lock when it stops', async () => {
    const namespace = uniqueNamespace('cli-scheduler');
    const keys = new Keys(namespace);
    const result = await cli(namespace, [
      'scheduler',
      '--schedule',
      fixture('valid.yml'),
      '--seconds',
      '2.5',
    ]);
    expect(result).toMatchObject({ code: 0 });
    // Ticks every second: the first is only the schedule's start, so at least one later tick fired.
    expect(await redis.llen(keys.queue('reports'))).toBeGreaterThanOrEqual(1);
    expect(await redis.exists(keys.schedulerMasterLock())).toBe(0);
  });
});

describe('resque info', () => {
  it('warns when delayed jobs are overdue and no process promotes them', async () => {
    const redis = rawRedis();
    const namespace = uniqueNamespace('cli-overdue');
    const keys = new Keys(namespace);
    try {
      const quiet = await resqueInProcess([
        'info',
        '--json',
        '--redis',
        sharedRedisUrl(),
        '--namespace',
        namespace,
      ]);
      expect(JSON.parse(quiet.stdout).warnings.map((w: { code: string }) => w.code)).not.toContain(
        'DELAYED_OVERDUE',
      );
      // A Ruby-written job due an hour ago that nobody moved.
      const second = Math.floor(Date.now() / 1000) - 3600;
      await redis.rpush(keys.delayedAt(second), '{"class":"Late","args":[],"queue":"q"}');
      await redis.zadd(keys.delayedSchedule, second, second);
      const text = await resqueInProcess(['info', '--redis', sharedRedisUrl(), '--namespace', namespace]);
      expect(text.stdout).toMatch(
        /warning: 1 delayed job is overdue: the earliest was due .* \(60 min ago\) and no process is promoting delayed jobs; run `resque work`/,
      );
    } finally {
      redis.disconnect();
    }
  });
});

describe('resque scheduler while Redis is down', () => {
  it('says which Redis it uses, and stops on TERM though its pass waits for Redis', async () => {
    const port = await freePort();
    const child = spawnTs(CLI_MAIN, ['scheduler', '--redis', `redis://127.0.0.1:${port}`]);
    const done = finished(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await waitFor(() => stderr.includes('\n'), 30_000, 'the start-up line');
    expect(stderr.split('\n')[0]).toBe(
      `resque scheduler: Redis redis://127.0.0.1:${port} (from --redis), namespace "resque"`,
    );
    child.kill('SIGTERM');
    const result = await done;
    expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
  });
});
