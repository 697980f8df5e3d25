import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob, Resque } from '../../src/index.js';
import { keysUnder, rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

const Archive = defineJob({
  className: 'Archive',
  queue: 'file_serve',
  perform: async (_ctx, _id: number) => {},
});

describe('delayed enqueue rejects bad input and writes nothing', () => {
  const redis = rawRedis();
  let namespace: string;
  let resque: Resque;

  beforeAll(() => {
    namespace = uniqueNamespace('delayed-bad');
    resque = new Resque({ redis: sharedRedisUrl(), namespace });
  });
  afterAll(async () => {
    expect(await keysUnder(redis, namespace)).toEqual([]);
    await resque.close();
    redis.disconnect();
  });

  it.each([
    ['an invalid Date', () => resque.enqueueAt(new Date('nope'), Archive, 1), /Invalid date: Invalid Date/],
    ['NaN as a date', () => resque.enqueueAt(Number.NaN, Archive, 1), /Invalid date .*: NaN/],
    [
      'a string as a date',
      () => resque.enqueueAt('tomorrow' as never, Archive, 1),
      /Invalid date .*: "tomorrow"/,
    ],
    [
      'a negative delay',
      () => resque.enqueueIn(-5, Archive, 1),
      /Invalid delay \(must not be negative\): -5/,
    ],
    [
      'an infinite delay',
      () => resque.enqueueIn(Number.POSITIVE_INFINITY, Archive, 1),
      /Invalid delay .*: Infinity/,
    ],
    ['a NaN delay', () => resque.enqueueInTo('q', Number.NaN, 'Archive', 1), /Invalid delay .*: NaN/],
  ])('%s → INVALID_TIME naming the value', async (_label, call, message) => {
    await expect(call()).rejects.toMatchObject({
      code: 'INVALID_TIME',
      message: expect.stringMatching(message),
    });
  });

  it('rejects arguments JSON cannot carry', async () => {
    await expect(resque.enqueueIn(1000, Archive, undefined as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENTS',
    });
  });

  it('rejects a bad queue or class name', async () => {
    await expect(resque.enqueueInTo('bad:queue', 1000, 'Archive', 1)).rejects.toMatchObject({
      code: 'INVALID_QUEUE_NAME',
    });
    await expect(resque.enqueueInTo('q', 1000, 'not a class', 1)).rejects.toMatchObject({
      code: 'INVALID_CLASS_NAME',
    });
  });

  it('rejects a whole bulk when one entry is bad, before writing any', async () => {
    const base = Date.now() + 60_000;
    await expect(
      resque.enqueueAtBulk(Archive, [
        { at: base, args: [1] },
        { at: new Date(Number.NaN), args: [2] },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_TIME' });
    await expect(
      resque.enqueueAtBulk(Archive, [
        { at: base, args: [1] },
        { at: base, args: [() => 1] as never },
      ]),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENTS', message: expect.stringContaining('jobs[1].args') });
  });
});
