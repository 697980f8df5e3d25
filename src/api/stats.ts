import { type AdminContext, pipelineValues, redisNow } from './context.js';

/**
 * The dashboard's time series: one sample per period (10 s by default) of Resque's own counters (`stat:processed`,
 * `stat:failed`), the pending total, the longest wait and how much each error group grew. Samples live in one capped
 * ZSET (`ts:stats:samples`, a day at 10 s); the first dashboard to claim a period (`SET NX`) writes it, so several
 * dashboards on one Redis never double a sample. Charts are computed from differences between samples, so they show
 * rates whatever wrote the counters (Ruby workers, resque-ts workers).
 */
export interface StatsSample {
  /** Start of the period, epoch ms (Redis clock). */
  at: number;
  processed: number;
  failed: number;
  /** Jobs waiting in all queues. */
  pending: number;
  /** The longest wait of any queue's next job, ms (undefined when no queue says). */
  maxLatencyMs: number | undefined;
  /** Error groups that grew since the previous sample: group id → new failures. */
  groups: Record<string, number>;
}

/** What a sampler measures besides the counters it reads itself. */
export interface SampleInput {
  /** `stat:processed`/`stat:failed` read elsewhere (a sharded namespace's sums); default this namespace's. */
  counters?: { processed: number; failed: number };
  pending: number;
  maxLatencyMs: number | undefined;
  /** Current counts of the most recently seen error groups. */
  groupCounts: ReadonlyArray<{ id: string; count: number }>;
}

export const SAMPLE_PERIOD_MS = 10_000;
/** A day of 10-second samples. */
export const MAX_SAMPLES = 8640;

/** Resque's global counters (`stat:processed`, `stat:failed`). */
export async function readCounters(ctx: AdminContext): Promise<{ processed: number; failed: number }> {
  const [processed, failed] = await ctx.redis.mget(ctx.keys.processed, ctx.keys.failedCount);
  return { processed: Number(processed ?? 0), failed: Number(failed ?? 0) };
}

/**
 * Writes this period's sample unless another process did: returns it, or undefined when the period was taken.
 * Three round trips (TIME+counters, claim, write) every period, O(groups sampled).
 */
export async function writeSample(
  ctx: AdminContext,
  input: SampleInput,
  periodMs = SAMPLE_PERIOD_MS,
): Promise<StatsSample | undefined> {
  const { keys } = ctx;
  const [time, processed, failed, previous] = pipelineValues(
    await ctx.redis
      .pipeline()
      .time()
      .get(keys.processed)
      .get(keys.failedCount)
      .hgetall(keys.statsGroupCounts)
      .exec(),
  ) as [unknown, string | null, string | null, Record<string, string>];
  const at = Math.floor(redisNow(time) / periodMs) * periodMs;
  const claimed = await ctx.redis.set(keys.statsSampleClaim(at), '1', 'PX', periodMs * 3, 'NX');
  if (claimed !== 'OK') return undefined;
  const groups: Record<string, number> = {};
  for (const { id, count } of input.groupCounts) {
    const before = previous[id];
    if (before !== undefined && count > Number(before)) groups[id] = count - Number(before);
  }
  const sample: StatsSample = {
    at,
    processed: input.counters?.processed ?? Number(processed ?? 0),
    failed: input.counters?.failed ?? Number(failed ?? 0),
    pending: input.pending,
    maxLatencyMs: input.maxLatencyMs,
    groups,
  };
  const write = ctx.redis
    .multi()
    .zadd(keys.statsSamples, at, encodeSample(sample))
    .zremrangebyrank(keys.statsSamples, 0, -(MAX_SAMPLES + 1))
    .del(keys.statsGroupCounts);
  if (input.groupCounts.length > 0) {
    write.hset(keys.statsGroupCounts, ...input.groupCounts.flatMap((g) => [g.id, String(g.count)]));
  }
  pipelineValues(await write.exec());
  return sample;
}

/** Samples from `sinceMs` (epoch ms) on, oldest first: O(samples in the window). */
export async function readSamples(ctx: AdminContext, sinceMs: number): Promise<StatsSample[]> {
  const members = await ctx.redis.zrangebyscore(ctx.keys.statsSamples, sinceMs, '+inf');
  return members.flatMap((member) => {
    const sample = decodeSample(member);
    return sample ? [sample] : [];
  });
}

function encodeSample(sample: StatsSample): string {
  return JSON.stringify({
    t: sample.at,
    p: sample.processed,
    f: sample.failed,
    pend: sample.pending,
    lat: sample.maxLatencyMs ?? null,
    g: sample.groups,
  });
}

function decodeSample(member: string): StatsSample | undefined {
  try {
    const v = JSON.parse(member) as Record<string, unknown>;
    const groups = v['g'] && typeof v['g'] === 'object' ? (v['g'] as Record<string, number>) : {};
    return {
      at: Number(v['t']),
      processed: Number(v['p'] ?? 0),
      failed: Number(v['f'] ?? 0),
      pending: Number(v['pend'] ?? 0),
      maxLatencyMs: typeof v['lat'] === 'number' ? v['lat'] : undefined,
      groups,
    };
  } catch {
    return undefined;
  }
}

/** One bar of a chart: what happened between two samples, per bucket of the window. */
export interface SeriesBucket {
  /** Start of the bucket, epoch ms. */
  at: number;
  processed: number;
  failed: number;
  /** Pending jobs at the bucket's last sample. */
  pending: number | undefined;
  maxLatencyMs: number | undefined;
  /** False when no two samples fall in or around the bucket (no dashboard was sampling). */
  known: boolean;
}

/**
 * Buckets `samples` into `count` buckets of `bucketMs` ending at `endMs`: jobs processed and failed in each (the
 * counters' growth; a counter reset counts as 0), pending and longest wait at its end.
 */
export function bucketSamples(
  samples: readonly StatsSample[],
  endMs: number,
  bucketMs: number,
  count: number,
): SeriesBucket[] {
  const start = endMs - bucketMs * count;
  const buckets: SeriesBucket[] = Array.from({ length: count }, (_, i) => ({
    at: start + i * bucketMs,
    processed: 0,
    failed: 0,
    pending: undefined,
    maxLatencyMs: undefined,
    known: false,
  }));
  for (let i = 0; i < samples.length; i++) {
    const sample = samples[i]!;
    const index = Math.floor((sample.at - start) / bucketMs);
    const bucket = buckets[index];
    if (!bucket) continue;
    bucket.pending = sample.pending;
    bucket.maxLatencyMs = sample.maxLatencyMs;
    const before = samples[i - 1];
    if (!before || sample.at - before.at > bucketMs + SAMPLE_PERIOD_MS * 3) continue;
    bucket.known = true;
    bucket.processed += Math.max(0, sample.processed - before.processed);
    bucket.failed += Math.max(0, sample.failed - before.failed);
  }
  return buckets;
}

/** Per error group, new failures per bucket (for trend sparklines), from the samples' group growth. */
export function groupTrends(
  samples: readonly StatsSample[],
  endMs: number,
  bucketMs: number,
  count: number,
): Map<string, number[]> {
  const start = endMs - bucketMs * count;
  const trends = new Map<string, number[]>();
  for (const sample of samples) {
    const index = Math.floor((sample.at - start) / bucketMs);
    if (index < 0 || index >= count) continue;
    for (const [id, grew] of Object.entries(sample.groups)) {
      let trend = trends.get(id);
      if (!trend) {
        trend = new Array<number>(count).fill(0);
        trends.set(id, trend);
      }
      trend[index]! += grew;
    }
  }
  return trends;
}
