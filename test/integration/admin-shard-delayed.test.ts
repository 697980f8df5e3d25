// A delayed-job search over a sharded namespace (the dashboard's Delayed search): every shard's matches, merged.
import { afterAll, describe, expect, it } from 'vitest';
import { Admin } from '../../src/api/admin.js';
import { Resque } from '../../src/client/resque.js';
import { ShardLayout } from '../../src/protocol/shard-layout.js';
import { onCluster, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

const base = uniqueNamespace('shdelayed').replace(/[{}]/g, '');
const layout = new ShardLayout(base, 3);
const queueOn = (shard: number) => {
  for (let n = 0; ; n++) if (layout.shardOf(`d${n}`) === shard) return `d${n}`;
};
const admin = new Admin({ redis: sharedRedisUrl(), namespace: base, shards: 3 });
const resque = new Resque({ redis: sharedRedisUrl(), namespace: base, shards: 3 });
const DUE = Date.UTC(2031, 0, 1);

afterAll(async () => {
  await Promise.all([admin.close(), resque.close()]);
});

describe.skipIf(onCluster)('a sharded delayed-job search', () => {
  it('keeps the earliest matches of all shards and says when it stopped at its limit', async () => {
    // Shard 0 holds the later jobs, shard 2 the earlier ones.
    for (const n of [10, 11]) await resque.enqueueAtTo(queueOn(0), new Date(DUE + n * 1000), 'Report', n);
    for (const n of [1, 2]) await resque.enqueueAtTo(queueOn(2), new Date(DUE + n * 1000), 'Report', n);
    const found = await admin.delayed.find(() => true, { limit: 3 });
    expect(found.found.map((item) => item.args)).toEqual([[1], [2], [10]]);
    expect(found.complete).toBe(false);
    const all = await admin.delayed.find(() => true, { limit: 4 });
    expect(all.found.length).toBe(4);
  });
});
