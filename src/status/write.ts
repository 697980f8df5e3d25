import type { ChainableCommander, Redis } from 'ioredis';
import type { JsonObject, JsonValue } from '../protocol/json.js';
import type { Keys } from '../protocol/keys.js';
import { defineScript, queueScript } from '../redis/scripts.js';
import { trackedTtl } from './options.js';
import type { JobState, StatusError } from './record.js';

/** One change of a status record: the new state and the fields that come with it (docs/status.md). */
export interface StatusChange {
  readonly state: JobState;
  /** Epoch ms: the record's `updated_at`. */
  readonly at: number;
  readonly className?: string;
  readonly queue?: string;
  readonly enqueuedAt?: number;
  readonly worker?: string;
  readonly startedAt?: number;
  readonly attempt?: number;
  readonly returns?: number;
  readonly result?: JsonValue;
  readonly error?: StatusError;
  readonly nextAt?: number;
  /** Epoch ms: when it was cancelled (a `cancelled` change). */
  readonly cancelledAt?: number;
  /** Fields of an earlier state that no longer hold (a retried job's `next_at` once it runs). */
  readonly clear?: readonly StatusField[];
}

export type StatusField = 'worker' | 'started_at' | 'next_at' | 'error' | 'progress' | 'result';

export const CHANGE_SCRIPT = defineScript(new URL('./change.lua', import.meta.url));
const QUEUED_EARLY_SCRIPT = defineScript(new URL('./queued_early.lua', import.meta.url));

/**
 * How a change is queued: `eval` sends the script's source, `evalsha` its SHA (for callers that resend with the
 * source, or load the script, on NOSCRIPT).
 */
export type ScriptSend = 'eval' | 'evalsha';

function queueChange(
  pipeline: ChainableCommander,
  call: ScriptSend,
  key: string,
  args: ReadonlyArray<string | number>,
): ChainableCommander {
  return queueScript(pipeline, CHANGE_SCRIPT, [key], args, call === 'evalsha');
}

/**
 * Queues a status change on a pipeline or MULTI, as one script call (change.lua): set the record's fields, delete
 * those that no longer hold, expire it `ttlMs` from now, and publish the change on the job's channel (`{"state",…}`,
 * the fields as JSON values).
 */
export function queueStatusChange(
  pipeline: ChainableCommander,
  keys: Keys,
  id: string,
  ttlMs: number,
  change: StatusChange,
  call: ScriptSend = 'eval',
): ChainableCommander {
  const { fields, event } = encodeChange(change);
  const clear = change.clear ?? [];
  return queueChange(pipeline, call, keys.jobStatus(id), [
    ttlMs,
    keys.jobEvents(id),
    JSON.stringify(event),
    clear.length,
    ...clear,
    ...Object.entries(fields).flat(),
  ]);
}

/**
 * Queues the change of a tracked delayed job moved to its queue before its due time ("queue now"): `queued`, its
 * `next_at` gone, unless the record no longer says `delayed` (queued_early.lua). Promotion at the due time needs none:
 * a `delayed` record whose due time has passed reads `queued`.
 */
export function queueQueuedEarly(
  pipeline: ChainableCommander,
  keys: Keys,
  id: string,
  ttlMs: number,
  at: number,
): ChainableCommander {
  return queueScript(
    pipeline,
    QUEUED_EARLY_SCRIPT,
    [keys.jobStatus(id)],
    [ttlMs, keys.jobEvents(id), JSON.stringify({ state: 'queued', updated_at: at }), at],
    false,
  );
}

/** Queues a progress write: the record's `progress` and `updated_at`, published as `{"state":"running","progress"}`. */
export function queueProgress(
  pipeline: ChainableCommander,
  keys: Keys,
  id: string,
  ttlMs: number,
  progress: JsonValue,
  at: number,
  call: ScriptSend = 'eval',
): ChainableCommander {
  const encoded = JSON.stringify(progress);
  return queueChange(pipeline, call, keys.jobStatus(id), [
    ttlMs,
    keys.jobEvents(id),
    `{"state":"running","progress":${encoded}}`,
    0,
    'progress',
    encoded,
    'updated_at',
    at,
  ]);
}

function encodeChange(change: StatusChange): { fields: Record<string, string>; event: JsonObject } {
  const fields: Record<string, string> = { state: change.state, updated_at: String(change.at) };
  const event: JsonObject = { state: change.state, updated_at: change.at };
  const put = (field: string, value: JsonValue | undefined, asJson = false) => {
    if (value === undefined) return;
    fields[field] = asJson ? JSON.stringify(value) : String(value);
    event[field] = value;
  };
  put('class', change.className);
  put('queue', change.queue);
  put('enqueued_at', change.enqueuedAt);
  put('worker', change.worker);
  put('started_at', change.startedAt);
  put('attempt', change.attempt);
  put('returns', change.returns);
  put('next_at', change.nextAt);
  put('cancelled_at', change.cancelledAt);
  put('result', change.result, true);
  put('error', change.error as JsonObject | undefined, true);
  return { fields, event };
}

/**
 * Queued jobs removed by hand (`dequeue`, the dashboard's removal of matching jobs) never run: the tracked ones among
 * them (a payload with `"status"` and an id) end `cancelled`, so that a `waitFor` on them ends too. `items` are the
 * removed jobs' bytes; one round trip for all of them, none when none is tracked.
 */
export async function endRemovedJobs(
  redis: Redis,
  keys: Keys,
  items: readonly string[],
  at: number,
): Promise<void> {
  const pipeline = redis.pipeline();
  let tracked = 0;
  for (const item of items) {
    if (!item.includes('"status":')) continue;
    let payload: { id?: unknown; status?: JsonValue };
    try {
      payload = JSON.parse(item) as { id?: unknown; status?: JsonValue };
    } catch {
      continue;
    }
    const ttl = trackedTtl(payload.status);
    if (typeof payload.id !== 'string' || ttl === undefined) continue;
    queueStatusChange(pipeline, keys, payload.id, ttl, { state: 'cancelled', at, cancelledAt: at });
    tracked++;
  }
  if (tracked > 0) await pipeline.exec();
}
