import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/index.js';
import { resqueInProcess } from '../harness/cli-in-process.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

describe('resque retries', () => {
  const redis = rawRedis();
  afterAll(() => redis.disconnect());
  const cli = (namespace: string, args: string[]) =>
    resqueInProcess([...args, '--redis', sharedRedisUrl(), '--namespace', namespace]);

  it('lists and counts the jobs waiting to be retried, retries one now and removes another', async () => {
    const namespace = uniqueNamespace('cli-retries');
    const keys = new Keys(namespace);
    const T = 1_900_000_000_000;
    const error = { attempt: 1, failed_at: 't', exception: 'TypeError', error: 'bad', backtrace: [] };
    const item = (n: number) =>
      `{"class":"Report","args":[${n}],"attempt":2,${n === 1 ? '"attempts":3,' : ''}"errors":[${JSON.stringify(error)}]}`;
    await redis.zadd(
      keys.retrySet,
      T,
      `${'a'.repeat(16)}\nq\n${item(1)}`,
      T + 1,
      `${'b'.repeat(16)}\nq\n${item(2)}`,
    );

    expect((await cli(namespace, ['retries', 'count'])).stdout).toBe('2 jobs waiting to be retried\n');
    const table = (await cli(namespace, ['retries'])).stdout;
    expect(table).toContain(new Date(T).toISOString());
    expect(table).toContain('TypeError: bad');
    // Attempt n of m where the worker that filed the retry said how many; the bare number where not.
    expect(table).toMatch(/ 2 of 3 /);
    expect(table).toMatch(/ 2 {2,}TypeError/);
    const listed = JSON.parse((await cli(namespace, ['retries', 'list', '--json'])).stdout);
    expect(listed.total).toBe(2);
    expect(
      listed.jobs.map((j: { args: unknown[]; attempt: number; attempts?: number }) => [
        j.args,
        j.attempt,
        j.attempts,
      ]),
    ).toEqual([
      [[1], 2, 3],
      [[2], 2, undefined],
    ]);
    const [first, second] = listed.jobs as Array<{ ref: string }>;
    expect((await cli(namespace, ['retries', 'now', first!.ref])).stdout).toBe(
      'queued for its next attempt now\n',
    );
    expect(await redis.lrange(keys.queue('q'), 0, -1)).toEqual([item(1)]);
    const again = await cli(namespace, ['retries', 'now', first!.ref]);
    expect(again.code).toBe(1);
    expect(JSON.parse((await cli(namespace, ['retries', 'remove', second!.ref, '--json'])).stdout)).toEqual({
      removed: true,
    });
    expect(await redis.zcard(keys.retrySet)).toBe(0);
    expect((await cli(namespace, ['retries', 'now'])).code).toBe(2);
    expect((await cli(namespace, ['retries', 'bogus'])).code).toBe(2);
  });
});
