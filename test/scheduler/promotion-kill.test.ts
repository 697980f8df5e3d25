import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Keys, Resque } from '../../src/index.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { keysLeft, rubyDelayedPush } from './delayed-helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROMOTER = `${ROOT}test/fixtures/scheduler/promote-forever.ts`;

/** Starts a promoter process and kills it with SIGKILL `afterMs` after it is ready (or lets it exit). */
async function promoteThenKill(namespace: string, afterMs: number): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--import', `${ROOT}test/harness/register-ts.mjs`, PROMOTER, sharedRedisUrl(), namespace],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, afterMs));
  child.kill('SIGKILL');
  await exited;
}

describe('a promoter killed mid-batch', () => {
  it('loses and duplicates nothing over repeated kill -9 (ledger of every job)', async () => {
    const namespace = uniqueNamespace('promote-kill');
    const keys = new Keys(namespace);
    const redis = rawRedis();
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    try {
      const T = 3_000_000_000_000;
      const ours = Array.from({ length: 6000 }, (_, i) => ({ at: T + (i % 500) * 7, args: [i] as [number] }));
      await resque.enqueueAtTo('ledger', T, 'Ledger', -1); // keeps the bulk's class company at one second
      await resque.enqueueAtBulk('Ledger', ours, { queue: 'ledger' });
      for (let i = 0; i < 1500; i++)
        await rubyDelayedPush(
          redis,
          namespace,
          T / 1000 + (i % 40),
          `{"class":"Ledger","args":[${10_000 + i}],"queue":"ledger"}`,
        );
      const expected = new Set([
        -1,
        ...ours.map((j) => j.args[0]),
        ...Array.from({ length: 1500 }, (_, i) => 10_000 + i),
      ]);
      let kills = 0;
      while ((await resque.delayed.count()) > 0 && kills < 12) {
        await promoteThenKill(namespace, 5 + ((kills * 37) % 60));
        kills += 1;
      }
      expect(kills).toBeGreaterThan(1);
      // Whatever is left (if the kills came too fast) is finished by a last, unkilled pass.
      const remaining = await resque.delayed.count();
      if (remaining > 0) await promoteThenKill(namespace, 3000);
      const ledger = (await redis.lrange(keys.queue('ledger'), 0, -1)).map(
        (raw) => (JSON.parse(raw) as { args: [number] }).args[0],
      );
      expect(ledger.length).toBe(expected.size);
      expect(new Set(ledger)).toEqual(expected);
      const left = (await keysLeft(redis, namespace)).filter(
        (key) => key !== keys.queue('ledger') && key !== keys.queues,
      );
      expect(left).toEqual([]);
    } finally {
      await resque.close();
      redis.disconnect();
    }
  }, 300_000);
});
