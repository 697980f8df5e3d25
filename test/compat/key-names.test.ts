// Every key the queue client touches must be one of docs/protocol.md (Keys) under our namespace: MONITOR records
// what the client sends and Redis itself (COMMAND GETKEYSANDFLAGS) says which arguments are keys and how they are used.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob, Resque } from '../../src/index.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { type RecordedCommand, recordCommands } from '../harness/monitor.js';

/** docs/protocol.md (Keys), logical names (real key = `<namespace>:` + name). */
const RUBY_KEYS: readonly RegExp[] = [
  /^queues$/,
  /^queue:[^:,\s]+$/,
  /^workers$/,
  /^worker:.+$/,
  /^workers:heartbeat$/,
  /^pruning_dead_workers_in_progress$/,
  /^stat:(processed|failed)(:.+)?$/,
  /^failed$/,
  /^failed_queues$/,
  /^.+_failed$/,
  /^pause-all-workers$/,
  /^delayed_queue_schedule$/,
  /^delayed:(\d+|last_enqueued_at)$/,
  /^timestamps:.+$/,
  /^persistent_schedules$/,
  /^schedules_changed$/,
];

/**
 * resque-ts's own keys a client touches when it pushes and removes jobs: the non-empty index, the wake lists, and a
 * fair queue's rotation, turn and tenant lists (removeQueue drops them with the queue).
 */
const TS_QUEUE_KEYS: readonly RegExp[] = [
  /^ts:queues:non-empty$/,
  /^ts:fair-(rotation|turn):[^:,\s]+$/,
  /^ts:fair:[^:,\s]+:.+$/,
  /^ts:wake:[^:,\s]+$/,
  /^ts:wake-globs$/,
  /^ts:wake-glob:.+$/,
];

/**
 * What enqueue/dequeue may write: the queues set and queue lists, the non-empty index, the wake lists and fair
 * queues' tenant keys, nothing else (docs/protocol.md, Keys).
 */
const CLIENT_WRITES: readonly RegExp[] = [/^queues$/, /^queue:[^:,\s]+$/, ...TS_QUEUE_KEYS];

interface KeyUse {
  key: string;
  writes: boolean;
  command: string;
}

const Archive = defineJob({
  className: 'Archive',
  queue: 'file_serve',
  perform: async (_ctx, _id: number, _name: string) => {},
});

describe('key names the client uses', () => {
  const redis = rawRedis();
  let namespace: string;
  let resque: Resque;
  let commands: RecordedCommand[];

  beforeAll(async () => {
    namespace = uniqueNamespace('keys');
    resque = new Resque({ redis: sharedRedisUrl(), namespace });
    await resque.redis.ping();
    const recorder = await recordCommands(sharedRedisUrl(), resque.redis);
    await resque.enqueue(Archive, 1, 'a');
    await resque.enqueueTo('other', 'Some::Job', { deep: [1] });
    await resque.enqueueBulk(Archive, [
      [2, 'b'],
      [3, 'c'],
    ]);
    await resque.size('file_serve');
    await resque.peek('file_serve', 0, 2);
    await resque.peek('file_serve', -1);
    await resque.queues();
    await resque.queueSizes();
    await resque.info();
    await resque.dequeue(Archive, 2, 'b');
    await resque.dequeueFrom('file_serve', Archive);
    await resque.watchQueue('watched');
    await resque.removeQueue('other');
    commands = await recorder.stop();
  });
  afterAll(async () => {
    await resque.close();
    redis.disconnect();
  });

  async function keyUses(command: RecordedCommand): Promise<KeyUse[]> {
    try {
      const found = (await redis.call('COMMAND', 'GETKEYSANDFLAGS', command.name, ...command.args)) as Array<
        [string, string[]]
      >;
      return found.map(([key, flags]) => ({ key, writes: !flags.includes('RO'), command: command.name }));
    } catch (error) {
      // MULTI and EXEC name no keys (the commands between them are recorded on their own).
      if (/no key arguments|Invalid arguments|wrong number of arguments/i.test((error as Error).message))
        return [];
      throw error;
    }
  }

  it('sees the client at work', () => {
    const names = new Set(commands.map((c) => c.name));
    for (const name of ['SADD', 'RPUSH', 'LLEN', 'LRANGE', 'SMEMBERS', 'SREM', 'UNLINK', 'ZREM']) {
      expect(names).toContain(name);
    }
  });

  it('keeps every key under the namespace and within Ruby’s keys; writes only the queues set and queue lists', async () => {
    const uses = (await Promise.all(commands.map(keyUses))).flat();
    expect(uses.length).toBeGreaterThan(10);
    const prefix = `${namespace}:`;
    expect(uses.filter((u) => !u.key.startsWith(prefix))).toEqual([]);
    const logical = uses.map((u) => ({ ...u, key: u.key.slice(prefix.length) }));
    expect(logical.filter((u) => ![...RUBY_KEYS, ...TS_QUEUE_KEYS].some((p) => p.test(u.key)))).toEqual([]);
    expect(logical.filter((u) => u.writes && !CLIENT_WRITES.some((p) => p.test(u.key)))).toEqual([]);
    expect(new Set(logical.filter((u) => u.writes).map((u) => u.key))).toEqual(
      new Set([
        'queues',
        'queue:file_serve',
        'queue:other',
        'ts:queues:non-empty',
        'ts:wake:other',
        'ts:fair-rotation:other',
        'ts:fair-turn:other',
      ]),
    );
  });

  it('never enumerates the keyspace and announces enqueues in keys, not on Pub/Sub', () => {
    expect(commands.filter((c) => c.name === 'KEYS' || c.name === 'SCAN')).toEqual([]);
    expect(commands.filter((c) => c.name === 'PUBLISH')).toEqual([]);
  });
});
