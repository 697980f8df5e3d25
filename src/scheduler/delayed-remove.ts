import type { ClientContext } from '../client/context.js';
import { runScript } from '../redis/scripts.js';
import { type DecodedItem, decodeDelayedItem, payloadFromItem } from './delayed-item.js';
import { type DelayedItemView, eachItemAt, eachSecond, secondsOf, viewItem } from './delayed-query.js';
import { DELAYED_SCRIPTS } from './scripts.js';

/** Seconds handled per script call when removing one item everywhere. */
const SECONDS_PER_CALL = 100;

/**
 * Removes every copy of `item` from `seconds` (all the seconds its `timestamps:` set names when omitted), 100
 * seconds per script call; with `enqueue`, pushes Ruby's `{"class","args"}` (cut from the item's bytes) to its queue for each copy removed, in the
 * same call. Returns the number of copies removed.
 */
export async function removeItem(
  ctx: ClientContext,
  item: string,
  options: { seconds?: readonly number[]; enqueue?: DecodedItem } = {},
): Promise<number> {
  const seconds = options.seconds ?? (await secondsOf(ctx, item));
  const queue = options.enqueue?.queue;
  const payload = options.enqueue ? payloadFromItem(item, options.enqueue) : '';
  let removed = 0;
  for (let i = 0; i < seconds.length; i += SECONDS_PER_CALL) {
    const chunk = seconds.slice(i, i + SECONDS_PER_CALL);
    const { keys } = ctx;
    const scriptKeys = [
      keys.delayedSchedule,
      keys.timestamps(item),
      keys.queues,
      queue ? keys.queue(queue) : keys.timestamps(item),
      ...chunk.map((second) => keys.delayedAt(second)),
    ];
    const args: Array<string | number> = [item, queue ?? '', payload, keys.announce];
    for (const second of chunk) args.push(second, keys.delayedMember(second));
    removed += await runScript<number>(ctx.redis, DELAYED_SCRIPTS.remove, scriptKeys, args);
  }
  return removed;
}

export interface SelectionOptions {
  /** Only items of this class. */
  className?: string;
  /** Stop looking at this many matches. */
  limit?: number;
  /** Stop looking after this long (epoch ms deadline on this machine's clock): a search stays time-bounded. */
  deadlineMs?: number;
}

export interface FoundItem extends DelayedItemView {
  second: number;
}

/**
 * Walks every delayed item in chunks (Ruby's find_delayed_selection) and returns those of `className` whose args
 * `filter` accepts. `complete` is false when the walk stopped at `limit` or `deadlineMs`.
 */
export async function findItems(
  ctx: ClientContext,
  filter: (args: unknown[], item: DelayedItemView) => boolean,
  options: SelectionOptions = {},
): Promise<{ found: FoundItem[]; complete: boolean }> {
  const found: FoundItem[] = [];
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  for await (const second of eachSecond(ctx)) {
    for await (const raw of eachItemAt(ctx, second)) {
      const view = viewItem(raw);
      if (view.args === undefined) continue;
      if (options.className !== undefined && view.className !== options.className) continue;
      if (!filter(view.args, view)) continue;
      found.push({ ...view, second });
      if (found.length >= limit) return { found, complete: false };
    }
    if (options.deadlineMs !== undefined && Date.now() > options.deadlineMs)
      return { found, complete: false };
  }
  return { found, complete: true };
}

/** Removes (or, with `enqueue`, moves to their queues now) every selected item; returns how many copies. */
export async function takeSelection(
  ctx: ClientContext,
  filter: (args: unknown[], item: DelayedItemView) => boolean,
  options: { className?: string; enqueue: boolean },
): Promise<number> {
  const { found } = await findItems(ctx, filter, { className: options.className });
  const secondsByItem = new Map<string, Set<number>>();
  for (const { raw, second } of found) {
    const seconds = secondsByItem.get(raw) ?? new Set<number>();
    seconds.add(second);
    secondsByItem.set(raw, seconds);
  }
  let taken = 0;
  for (const [raw, seconds] of secondsByItem) {
    const enqueue = options.enqueue ? enqueueTarget(raw) : undefined;
    if (options.enqueue && !enqueue) continue;
    taken += await removeItem(ctx, raw, { seconds: [...seconds], enqueue });
  }
  return taken;
}

function enqueueTarget(raw: string): DecodedItem | undefined {
  const decoded = decodeDelayedItem(raw);
  return decoded.queue === undefined ? undefined : decoded;
}
