// The read model of flow control (docs/flow-control.md): each concurrency limit with its tokens held and its parked
// jobs, the busiest keys of keyed limits, and the paused queues. Bounded: the holds and the parked index are read by
// cursor up to KEYS_READ entries, so a namespace with many keys costs at most that much per call.
import { pausedQueues } from '../client/queue-pause.js';
import { assertLimit } from '../jobs/concurrency.js';
import { type LimitState, limitDefinitions } from '../limits/definitions.js';
import { RATE_LOG_COUNT, rateDefinitions, startsInWindow } from '../limits/rate-definitions.js';
import type { AdminContext } from './context.js';
import { pipelineValues } from './context.js';

/** How many entries of `ts:limit-holds` and of `ts:parked-limits` one read looks at, at most. */
const KEYS_READ = 1000;
/** Keys a keyed limit shows by default: the busiest. */
export const BUSIEST_KEYS = 10;

export type LimitKind = 'class' | 'key' | 'queue' | 'other';

/** One key of a keyed limit: the jobs of that key running and parked. */
export interface KeyUsage {
  key: string;
  running: number;
  parked: number;
}

/** One defined limit and its use now. */
export interface LimitView {
  /** The shard it is counted on, on a sharded namespace (a limit is counted per shard). */
  shard?: number;
  /** As defined in `ts:limits`: `class:<Class>`, `key:<Class>` (per key), `queue:<name>`. */
  name: string;
  kind: LimitKind;
  /** The class or queue it applies to. */
  target: string;
  /** At most this many at once (per key for a keyed limit). */
  limit: number;
  /** Jobs holding its tokens (for a keyed limit: over every key read). */
  running: number;
  /** Jobs waiting parked on it (for a keyed limit: over every key read). */
  parked: number;
  /** Keyed limits: the keys with jobs running or parked, busiest first (running, then parked), at most `keysShown`. */
  keys?: KeyUsage[];
  /** Keyed limits: how many keys have jobs running or parked (among those read). */
  activeKeys?: number;
}

/** One defined rate limit and its use now. */
export interface RateView {
  /** The shard it is counted on, on a sharded namespace. */
  shard?: number;
  /** As defined in `ts:rate-limits`: `class:<Class>`, `key:<Class>` (per key), `queue:<name>`. */
  name: string;
  kind: LimitKind;
  target: string;
  /** At most this many starts… */
  limit: number;
  /** …per this many ms (per key for a keyed limit). */
  windowMs: number;
  /** Starts in the current window (class and queue limits; keyed limits: not counted, see `keys`). */
  starts: number;
  /** When a job said the limit is used up (`RateLimited`), until when it is held shut. */
  blockedUntil?: Date;
  /** Jobs waiting parked on it (keyed limits: over the keys read). */
  parked: number;
  /** When its parked jobs may next be let back. */
  nextRoomAt?: Date;
  /** Keyed limits: the keys with parked jobs, most parked first, at most `keysShown`. */
  keys?: Array<{ key: string; parked: number; nextRoomAt?: Date }>;
}

export interface FlowControlView {
  limits: LimitView[];
  /** Rate limits, with their starts in the current window and parked jobs. */
  rates: RateView[];
  /** Paused queues, with when each was paused. */
  paused: Array<{ queue: string; pausedAt: Date }>;
  /**
   * True when there were more held tokens or parked keys than one read looks at: keyed limits' figures then count
   * the keys read only.
   */
  partial: boolean;
}

/** The kind and target of a limit definition's name. */
export function limitTarget(name: string): { kind: LimitKind; target: string } {
  const colon = name.indexOf(':');
  const kind = name.slice(0, colon);
  if (kind === 'class' || kind === 'key' || kind === 'queue') return { kind, target: name.slice(colon + 1) };
  return { kind: 'other', target: name };
}

/**
 * A queue limit typed as text (CLI argument, form field), checked as the API checks it: ConfigError unless it is a
 * whole number of 1 or more.
 */
export function queueLimitFromText(queue: string, text: string): number {
  const trimmed = text.trim();
  const value: unknown = /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : text;
  assertLimit(value, 'limit', `Queue ${queue}`);
  return value;
}

/**
 * Every limit with its use, and the paused queues. Class and queue limits cost one SCARD and one LLEN each; keyed
 * limits one bounded read of the holds and of the parked index (only when a keyed limit is defined), and one LLEN
 * per parked key read.
 */
export async function flowControl(
  ctx: AdminContext,
  options: { keysShown?: number } = {},
): Promise<FlowControlView> {
  const keysShown = options.keysShown ?? BUSIEST_KEYS;
  const [definitions, paused, rates] = await Promise.all([
    limitDefinitions(ctx),
    pausedQueues(ctx),
    rateViews(ctx, keysShown),
  ]);
  const plain = definitions.filter((d) => limitTarget(d.name).kind !== 'key');
  const pipeline = ctx.redis.pipeline();
  for (const { name } of plain) pipeline.scard(ctx.keys.limitHolders(name)).llen(ctx.keys.parked(name));
  const values = plain.length > 0 ? pipelineValues(await pipeline.exec()) : [];
  const usage = new Map(
    plain.map((d, i) => [d.name, { running: Number(values[i * 2]), parked: Number(values[i * 2 + 1]) }]),
  );
  const keyed = definitions.some((d) => limitTarget(d.name).kind === 'key')
    ? await keyUsage(ctx)
    : { byKey: new Map<string, KeyUsage>(), partial: false };
  const limits = definitions.map((d) => view(d, usage, keyed.byKey, keysShown));
  const pausedList = [...paused]
    .map(([queue, pausedAt]) => ({ queue, pausedAt }))
    .sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0));
  return { limits, rates, paused: pausedList, partial: keyed.partial };
}

/**
 * Every rate limit with its use: per class or queue limit its log's count less the groups that left its window (by the
 * Redis clock), its block
 * and its parked jobs; keyed limits by the keys in the due index of parked jobs (bounded).
 */
async function rateViews(ctx: AdminContext, keysShown: number): Promise<RateView[]> {
  const [definitions, time, due] = await Promise.all([
    rateDefinitions(ctx),
    ctx.redis.time(),
    ctx.redis.zrange(ctx.keys.rateParkedDue, 0, KEYS_READ - 1, 'WITHSCORES'),
  ]);
  if (definitions.length === 0) return [];
  const nowMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
  const dueAt = new Map<string, number>();
  for (let i = 0; i + 1 < due.length; i += 2) dueAt.set(due[i]!, Number(due[i + 1]));
  const parkedKeyNames = [...dueAt.keys()].filter(isKeyName);
  const plain = definitions.filter((d) => limitTarget(d.name).kind !== 'key');
  const pipeline = ctx.redis.pipeline();
  for (const d of plain)
    pipeline
      .zscore(ctx.keys.rateLog(d.name), RATE_LOG_COUNT)
      .zrangebyscore(ctx.keys.rateLog(d.name), 0, nowMs - d.windowMs)
      .zscore(ctx.keys.rateLog(d.name), 'blocked')
      .llen(ctx.keys.rateParked(d.name));
  for (const name of parkedKeyNames) pipeline.llen(ctx.keys.rateParked(name));
  const values = plain.length + parkedKeyNames.length > 0 ? pipelineValues(await pipeline.exec()) : [];
  const at = (ms: number | undefined) => (ms === undefined || ms === 0 ? {} : { nextRoomAt: new Date(ms) });
  const parkedByKey = new Map(parkedKeyNames.map((name, i) => [name, Number(values[plain.length * 4 + i])]));
  return definitions.map((d) => {
    const { kind, target } = limitTarget(d.name);
    const base = { name: d.name, kind, target, limit: d.limit, windowMs: d.windowMs };
    if (kind === 'key') {
      const keys = [...parkedByKey.entries()]
        .filter(([name, parked]) => name.startsWith(`${d.name} `) && parked > 0)
        .map(([name, parked]) => ({ key: name.slice(d.name.length + 1), parked, ...at(dueAt.get(name)) }))
        .sort((a, b) => b.parked - a.parked || (a.key < b.key ? -1 : 1));
      return {
        ...base,
        starts: 0,
        parked: keys.reduce((sum, k) => sum + k.parked, 0),
        keys: keys.slice(0, keysShown),
      };
    }
    const i = plain.indexOf(d);
    const blocked = values[i * 4 + 2] === null ? undefined : Number(values[i * 4 + 2]);
    return {
      ...base,
      starts: startsInWindow(values[i * 4] as string | null, values[i * 4 + 1] as string[]),
      ...(blocked !== undefined && blocked > nowMs ? { blockedUntil: new Date(blocked) } : {}),
      parked: Number(values[i * 4 + 3]),
      ...at(dueAt.get(d.name)),
    };
  });
}

function view(
  definition: LimitState,
  usage: Map<string, { running: number; parked: number }>,
  byKey: Map<string, KeyUsage>,
  keysShown: number,
): LimitView {
  const { kind, target } = limitTarget(definition.name);
  const base = { name: definition.name, kind, target, limit: definition.limit };
  if (kind !== 'key') return { ...base, ...(usage.get(definition.name) ?? { running: 0, parked: 0 }) };
  const prefix = `${definition.name} `;
  const keys = [...byKey.entries()]
    .filter(([name]) => name.startsWith(prefix))
    .map(([, usage]) => usage)
    .sort((a, b) => b.running - a.running || b.parked - a.parked || (a.key < b.key ? -1 : 1));
  return {
    ...base,
    running: keys.reduce((sum, k) => sum + k.running, 0),
    parked: keys.reduce((sum, k) => sum + k.parked, 0),
    keys: keys.slice(0, keysShown),
    activeKeys: keys.length,
  };
}

/**
 * Running and parked jobs per keyed limit name (`key:<Class> <key>`): tokens counted from the holds (each hold names
 * the limits its reservation counts against), parked jobs by LLEN of the parked keys in the parked index.
 */
async function keyUsage(ctx: AdminContext): Promise<{ byKey: Map<string, KeyUsage>; partial: boolean }> {
  const byKey = new Map<string, KeyUsage>();
  const entry = (name: string): KeyUsage => {
    let found = byKey.get(name);
    if (!found) {
      found = { key: name.slice(name.indexOf(' ') + 1), running: 0, parked: 0 };
      byKey.set(name, found);
    }
    return found;
  };
  const holds = await readBounded(
    (cursor) => ctx.redis.hscan(ctx.keys.limitHolds, cursor, 'COUNT', 200),
    KEYS_READ * 2,
  );
  // A cursor read may return an entry twice: one hold per slot.
  const bySlot = new Map<string, string>();
  for (let i = 0; i + 1 < holds.items.length; i += 2) bySlot.set(holds.items[i]!, holds.items[i + 1]!);
  for (const hold of bySlot.values()) {
    for (const name of hold.split('\n')) if (isKeyName(name)) entry(name).running++;
  }
  const parkedIndex = await readBounded(
    (cursor) => ctx.redis.sscan(ctx.keys.parkedLimits, cursor, 'COUNT', 200),
    KEYS_READ,
  );
  const parkedNames = [...new Set(parkedIndex.items)].filter(isKeyName);
  if (parkedNames.length > 0) {
    const pipeline = ctx.redis.pipeline();
    for (const name of parkedNames) pipeline.llen(ctx.keys.parked(name));
    const lengths = pipelineValues(await pipeline.exec());
    parkedNames.forEach((name, i) => {
      const parked = Number(lengths[i]);
      if (parked > 0) entry(name).parked = parked;
    });
  }
  return { byKey, partial: holds.partial || parkedIndex.partial };
}

function isKeyName(name: string): boolean {
  return name.startsWith('key:') && name.includes(' ');
}

/** A cursor read (HSCAN/SSCAN) that stops once about `max` items were seen; `partial` when it stopped early. */
async function readBounded(
  scan: (cursor: string) => Promise<[cursor: string, items: string[]]>,
  max: number,
): Promise<{ items: string[]; partial: boolean }> {
  const items: string[] = [];
  let cursor = '0';
  do {
    const [next, page] = await scan(cursor);
    items.push(...page);
    cursor = next;
  } while (cursor !== '0' && items.length < max);
  return { items, partial: cursor !== '0' };
}
