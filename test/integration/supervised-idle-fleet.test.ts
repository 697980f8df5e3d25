// An idle fleet of supervised workers (`resque work --count 1`, jobs reserved ahead of each child while they are
// short): each job pushed is taken through its wake-up, not at a poll, and costs the fleet the same reservation calls
// however many workers wait. Counted on a private redis-server, where only this fleet and this test send commands.
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, uniqueNamespace, waitFor } from '../harness/context.js';
import { type RedisServer, removeDir, startRedis } from '../harness/redis-server.js';
import { awaitPerformed, readyChildren, startSupervised } from '../harness/supervised.js';

const servers: RedisServer[] = [];
const connections: Redis[] = [];
afterEach(async () => {
  for (const connection of connections.splice(0)) connection.disconnect();
  for (const server of servers.splice(0)) {
    await server.stop();
    removeDir(server.dir);
  }
});

/** Calls of `command` so far (INFO commandstats; a script's own calls count). */
async function calls(redis: Redis, command: string): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
}

/** Clients blocked in BLPOP: the workers' waits on their wake lists. */
async function blocked(redis: Redis): Promise<number> {
  const info = await redis.info('clients');
  return Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? -1);
}

describe('an idle fleet of supervised workers', () => {
  it('takes each job through its wake-up, with two reservation calls per job whatever the fleet size', async () => {
    const server = await startRedis();
    servers.push(server);
    const redis = rawRedis(server.url);
    connections.push(redis);
    const namespace = uniqueNamespace('idle-fleet');
    const keys = new Keys(namespace);
    const size = 3;
    // A poll interval no wait in this test comes near: a job is found only through its wake-up.
    const fleet = Array.from({ length: size }, () =>
      startSupervised(namespace, { REDIS_URL: server.url, INTERVAL: '120' }),
    );
    for (const worker of fleet) await readyChildren(worker);
    const resque = new Resque({ redis: server.url, namespace });
    // Short jobs first, so that the workers reserve ahead: nine slots per child.
    for (let n = 0; n < 30; n++) await resque.enqueueTo('q', 'Noop');
    await waitFor(async () => (await redis.get(keys.processed)) === '30', 30_000, 'the no-op jobs');
    await waitFor(async () => (await blocked(redis)) === size, 15_000, 'the fleet waiting');
    // Every reservation call reads its slots with one MGET (reserve.lua); nothing else in a running fleet sends one.
    const before = await calls(redis, 'mget');
    const jobs = 9;
    for (let n = 1; n <= jobs; n++) {
      await resque.enqueueTo('q', 'Ok', n);
      await awaitPerformed(redis, namespace, n);
    }
    await waitFor(async () => (await blocked(redis)) === size, 15_000, 'the fleet waiting again');
    // Per job: the call that takes it and the one that acknowledges it. A wake-up left unused, or every idle worker
    // woken, would show here (or as a job that waited for the 120 s poll).
    expect((await calls(redis, 'mget')) - before).toBeLessThanOrEqual(2 * jobs + 2);
    await resque.close();
  });
});
