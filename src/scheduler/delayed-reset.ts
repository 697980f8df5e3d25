import type { ClientContext } from '../client/context.js';
import { eachItemAt, WALK_CHUNK } from './delayed-query.js';

/**
 * Ruby's reset_delayed_queue, in chunks: for each second, the `timestamps:` sets of its items, then its list, then
 * its schedule entry; finally resque-ts's own index and records (UNLINK: freed off Redis's main thread). Returns the
 * number of seconds cleared.
 */
export async function resetDelayed(ctx: ClientContext): Promise<number> {
  const { redis, keys } = ctx;
  let cleared = 0;
  for (;;) {
    const seconds = (await redis.zrange(keys.delayedSchedule, 0, WALK_CHUNK - 1)).map(Number);
    if (seconds.length === 0) break;
    for (const second of seconds) {
      let items = new Set<string>();
      for await (const raw of eachItemAt(ctx, second)) {
        items.add(raw);
        if (items.size >= WALK_CHUNK) {
          await redis.unlink(...[...items].map((item) => keys.timestamps(item)));
          items = new Set();
        }
      }
      if (items.size > 0) await redis.unlink(...[...items].map((item) => keys.timestamps(item)));
      await redis.pipeline().unlink(keys.delayedAt(second)).zrem(keys.delayedSchedule, second).exec();
      cleared += 1;
    }
  }
  await redis.unlink(
    keys.delayedSchedule,
    keys.delayedDue,
    keys.delayedRecords,
    keys.delayedByItem,
    keys.delayedSequence,
  );
  return cleared;
}
