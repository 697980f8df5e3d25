// A sharded namespace's layout: each shard's namespace and slot, where a queue lives, how a queue list splits, and
// what the configuration refuses.
import calculateSlot from 'cluster-key-slot';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { allShardConfigs, shardConfig, shardLayoutOf } from '../../src/config/shards.js';
import { ConfigError } from '../../src/errors/index.js';
import { parseQueueShards, ShardLayout, shardNamespace } from '../../src/protocol/shard-layout.js';
import { hashTagOf } from '../../src/redis/cluster.js';

describe('shard namespaces', () => {
  it('carry a tag whose slot lies in the shard’s equal share of the slots', () => {
    for (const count of [2, 3, 5, 16, 64]) {
      const layout = new ShardLayout('resque', count);
      expect(new Set(layout.namespaces).size).toBe(count);
      layout.namespaces.forEach((namespace, index) => {
        const tag = hashTagOf(namespace);
        expect(tag).toBeDefined();
        const slot = calculateSlot(tag!);
        expect(slot).toBeGreaterThanOrEqual(Math.floor((index * 16384) / count));
        expect(slot).toBeLessThan(Math.floor(((index + 1) * 16384) / count));
      });
    }
  });

  it('are the same wherever they are computed', () => {
    expect(new ShardLayout('resque', 3).namespaces).toEqual(['{resque:0:2}', '{resque:1:4}', '{resque:2}']);
    expect(shardNamespace('app', 0, 1)).toBe('{app:0}');
  });
});

describe('ShardLayout.shardOf', () => {
  it('places a queue by the slot of its name, or where queueShards says', () => {
    const layout = new ShardLayout('resque', 3, new Map([['critical', 0]]));
    for (const queue of ['a', 'b', 'c', 'mail', 'default'])
      expect(layout.shardOf(queue)).toBe(Math.floor((calculateSlot(queue) * 3) / 16384));
    expect(layout.shardOf('critical')).toBe(0);
    expect(layout.namespaceOf('critical')).toBe(layout.namespaces[0]);
  });
});

describe('ShardLayout.split', () => {
  const layout = new ShardLayout(
    'resque',
    3,
    new Map([
      ['critical', 1],
      ['default', 1],
      ['mail', 0],
    ]),
  );

  it('keeps named queues on their shard in the list’s order, shards ordered by their first queue', () => {
    expect(layout.split(['mail', 'critical', 'default'])).toEqual([
      { shard: 0, namespace: layout.namespaces[0], queues: ['mail'] },
      { shard: 1, namespace: layout.namespaces[1], queues: ['critical', 'default'] },
    ]);
  });

  it('gives patterns and exclusions to every shard', () => {
    const parts = layout.split(['critical', '*', '!slow']);
    expect(parts.map((p) => p.shard)).toEqual([1, 0, 2]);
    expect(parts[0]!.queues).toEqual(['critical', '*', '!slow']);
    expect(parts[1]!.queues).toEqual(['*', '!slow']);
  });

  it('drops shards left with exclusions only', () => {
    expect(layout.split(['mail', '!critical']).map((p) => p.shard)).toEqual([0]);
  });
});

describe('configuration', () => {
  it('reads RESQUE_SHARDS and RESQUE_QUEUE_SHARDS', () => {
    const config = resolveConfig({}, { RESQUE_SHARDS: '3', RESQUE_QUEUE_SHARDS: 'critical=0, mail=2' });
    expect(config.shards).toBe(3);
    expect(config.queueShards).toEqual({ critical: 0, mail: 2 });
    expect(shardLayoutOf(config)?.shardOf('mail')).toBe(2);
  });

  it('is not sharded by default', () => {
    const config = resolveConfig({}, {});
    expect(config.shards).toBe(1);
    expect(shardLayoutOf(config)).toBeUndefined();
    expect(allShardConfigs(config)).toEqual([config]);
  });

  it('makes one unsharded configuration per shard', () => {
    const config = resolveConfig({ shards: 2, queues: ['a', 'b'] }, {});
    const shards = allShardConfigs(config);
    expect(shards.map((c) => c.namespace)).toEqual(shardLayoutOf(config)!.namespaces);
    expect(shards.every((c) => c.shards === 1)).toBe(true);
    expect(shardConfig(config, shards[0]!.namespace, ['a']).queues).toEqual(['a']);
  });

  it('accepts a cluster with an untagged base namespace when sharded', () => {
    const config = resolveConfig({ redis: 'redis+cluster://127.0.0.1:7000', shards: 3 }, {});
    expect(config.namespace).toBe('resque');
  });

  it.each([
    [{ shards: 0 }, /shards.*expected an integer from 1 to 1024, got 0/],
    [{ shards: 1.5 }, /expected an integer/],
    [{ shards: 2000 }, /expected an integer from 1 to 1024/],
    [{ shards: 3, namespace: '{resque}' }, /use "resque" instead of "\{resque\}"/],
    [
      { shards: 3, queueShards: { mail: 3 } },
      /queue "mail" is placed on shard 3, but shards are numbered 0 to 2/,
    ],
    [{ shards: 3, queueShards: { 'a b': 0 } }, /queueShards/],
  ])('refuses %j', (options, message) => {
    expect(() => resolveConfig(options as never, {})).toThrow(ConfigError);
    expect(() => resolveConfig(options as never, {})).toThrow(message);
  });

  it('refuses a malformed RESQUE_QUEUE_SHARDS', () => {
    expect(() => parseQueueShards('critical')).toThrow(/expected queue=shard entries/);
    expect(() => resolveConfig({}, { RESQUE_SHARDS: 'three' })).toThrow(/RESQUE_SHARDS.*expected an integer/);
  });
});

describe('ShardLayout.split of patterns', () => {
  it('sends every glob form and escaped pattern to every shard', () => {
    const layout = new ShardLayout('resque', 2);
    for (const entry of ['mail_*', 'q?', '[ab]x', 'a\\*'])
      expect(layout.split([entry]).map((p) => p.shard)).toEqual([0, 1]);
  });
});
