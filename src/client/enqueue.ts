import type { ChainableCommander } from 'ioredis';
import { ConfigError, NoQueueError, NotReplicatedError, UnknownJobClassError } from '../errors/index.js';
import { hooksFor, type JobDefinition } from '../jobs/define.js';
import { type LimitKeys, limitKeysOf } from '../jobs/limit-keys.js';
import { performJob } from '../jobs/perform.js';
import { locksAtEnqueue, type UniqueLock, uniqueLockOf, uniquePayload } from '../jobs/unique.js';
import type { TraceCarrier } from '../observability/tracing.js';
import {
  assertArgsJsonSafe,
  assertJsonSafe,
  type JsonObject,
  type JsonValue,
  roundTrip,
} from '../protocol/json.js';
import { assertClassName, assertQueueName } from '../protocol/names.js';
import { type EncodeMetadata, encodePayload } from '../protocol/payload.js';
import { pipelineValues } from '../redis/replies.js';
import { pipelineScript, queueScript, runScript, SCRIPTS } from '../redis/scripts.js';
import { pushWithStatus, type TrackedEnqueue } from '../status/enqueue.js';
import { statusTtlOf } from '../status/options.js';
import type { ClientContext } from './context.js';
import { enqueueScript } from './enqueue-script.js';
import { newJobId } from './job-id.js';
import { plainPushOf, pushPlain } from './plain-enqueue.js';

export interface Enqueued {
  queue: string;
  /**
   * The job id carried in the payload; undefined in strict mode. For a duplicate of a unique job, the id of the job
   * holding its key.
   */
  id: string | undefined;
  /** Only for a unique job whose key was held (docs/unique-jobs.md): nothing was pushed, `id` is the holder's. */
  duplicate?: true;
}

/** A job definition or, as Resque allows for enqueue_to, a bare class name (no hooks then). */
export type JobRef<A extends JsonValue[]> = JobDefinition<A> | string;

/** How many items one RPUSH carries in a bulk enqueue (all still go in one round trip). */
const BULK_PUSH_CHUNK = 1000;

export function queueOf(job: JobRef<JsonValue[]>, explicit?: string): string {
  const queue = explicit ?? (typeof job === 'string' ? undefined : job.queue);
  if (queue === undefined) {
    const name = typeof job === 'string' ? job : job.className;
    throw new NoQueueError(`Jobs must be placed onto a queue. No queue could be inferred for class ${name}`);
  }
  assertQueueName(queue);
  return queue;
}

function classNameOf(job: JobRef<JsonValue[]>): string {
  const name = typeof job === 'string' ? job : job.className;
  assertClassName(name);
  return name;
}

function definitionOf(ctx: ClientContext, job: JobRef<JsonValue[]>): JobDefinition | undefined {
  return typeof job === 'string' ? ctx.jobs.resolve(job) : job;
}

/**
 * A job's id and enqueue time, the retry options of a `withRetry` definition and its concurrency key; none in strict
 * mode (a keyed limit then does not apply: only class and queue limits do).
 */
function newMetadata(
  ctx: ClientContext,
  job: JobRef<JsonValue[]>,
  limitKeys: EnqueueKeys,
): EncodeMetadata | undefined {
  if (ctx.config.strictPayloads) return undefined;
  return {
    id: newJobId(),
    enqueuedAt: Date.now() / 1000,
    retry: enqueueRetryOf(job),
    statusTtlMs: statusTtlFor(ctx, job),
    concurrencyKey: limitKeys.concurrencyKey,
    rateKey: limitKeys.rateKey,
    tenant: limitKeys.tenant,
    unique: uniquePayload(limitKeys.uniqueLock),
  };
}

/** The status record TTL of a job whose status is tracked: the enqueue's `withStatus`, else its definition's. */
export function statusTtlFor(ctx: ClientContext, job: JobRef<JsonValue[]>): number | undefined {
  if (typeof job === 'string') return statusTtlOf(ctx.jobs.resolve(job)?.status);
  return statusTtlOf(job.enqueueStatus ?? job.status);
}

/** The first status records of the jobs whose status is tracked, in order. */
function trackedOf(
  className: string,
  queue: string,
  jobs: ReadonlyArray<{ meta: EncodeMetadata | undefined }>,
): TrackedEnqueue[] {
  return jobs.flatMap(({ meta }) =>
    meta?.statusTtlMs === undefined
      ? []
      : [
          {
            id: meta.id,
            ttlMs: meta.statusTtlMs,
            className,
            queue,
            enqueuedAt: Math.round(meta.enqueuedAt * 1000),
          },
        ],
  );
}

/** What an enqueue works out from the arguments before any hook runs: flow control's keys and the unique lock. */
type EnqueueKeys = LimitKeys & { uniqueLock?: UniqueLock | undefined };

function keyOf(definition: JobDefinition | undefined, className: string, args: JsonValue[]): EnqueueKeys {
  const keys: EnqueueKeys = limitKeysOf(definition, className, args);
  keys.uniqueLock = uniqueLockOf(className, definition?.unique, args);
  return keys;
}

/**
 * A unique job's lock holds its job id, which strict payloads leave out: such an enqueue is refused before anything
 * runs or is written (inline mode performs at once and takes no lock).
 */
export function assertUniqueAllowed(
  ctx: ClientContext,
  definition: JobDefinition | undefined,
  className: string,
): void {
  if (definition?.unique !== undefined && ctx.config.strictPayloads && !ctx.config.inline)
    throw new ConfigError(
      'strictPayloads',
      `Job ${className} is unique: its lock holds the job's id, which strict payloads leave out (docs/unique-jobs.md)`,
    );
}

export function enqueueRetryOf(job: JobRef<JsonValue[]>): JsonObject | undefined {
  return typeof job === 'string' ? undefined : (job.enqueueRetry as JsonObject | undefined);
}

/** Checks everything before any hook runs or anything reaches Redis. */
function validated(job: JobRef<JsonValue[]>, queue: string | undefined, args: readonly unknown[]) {
  const className = classNameOf(job);
  const resolvedQueue = queueOf(job, queue);
  assertArgsJsonSafe(args, 'args');
  return { className, queue: resolvedQueue };
}

/** before_enqueue hooks: all run; any exact `false` vetoes. */
async function allowedByHooks(definition: JobDefinition | undefined, args: JsonValue[]): Promise<boolean> {
  let allowed = true;
  for (const hook of hooksFor(definition, 'before_enqueue')) {
    if ((await hook(...args)) === false) allowed = false;
  }
  return allowed;
}

async function runAfterEnqueue(definition: JobDefinition | undefined, args: JsonValue[]): Promise<void> {
  for (const hook of hooksFor(definition, 'after_enqueue')) await hook(...args);
}

export async function enqueueOne(
  ctx: ClientContext,
  job: JobRef<JsonValue[]>,
  queue: string | undefined,
  args: JsonValue[],
): Promise<Enqueued | null> {
  const plain = plainPushOf(ctx, job, queue, queueOf);
  if (plain) return pushPlain(ctx, plain, args);
  const target = validated(job, queue, args);
  const definition = definitionOf(ctx, job);
  assertUniqueAllowed(ctx, definition, target.className);
  const limitKeys = keyOf(definition, target.className, args);
  if (!(await allowedByHooks(definition, args))) return null;
  const meta = newMetadata(ctx, job, limitKeys);
  const send = async (trace: TraceCarrier | undefined): Promise<string | undefined> => {
    if (ctx.config.inline) {
      await performInline(ctx, definition, target.className, target.queue, args, meta?.id);
      return undefined;
    }
    const traced = withTrace(meta, trace);
    if (traced && locksAtEnqueue(limitKeys.uniqueLock)) {
      const [holder] = await pushUnique(ctx, target.className, target.queue, [
        { args, meta: traced, tenant: limitKeys.tenant, lock: limitKeys.uniqueLock },
      ]);
      return holder || undefined;
    }
    await push(
      ctx,
      target.queue,
      encodePayload(target.className, args, traced),
      limitKeys.tenant,
      trackedOf(target.className, target.queue, [{ meta }]),
    );
    return undefined;
  };
  const span = { operation: 'enqueue', ...target, jobIds: [meta?.id] } as const;
  const holder = ctx.tracing ? await (await ctx.tracing()).produce(span, send) : await send(undefined);
  if (holder) return { queue: target.queue, id: holder, duplicate: true };
  await runAfterEnqueue(definition, args);
  return { queue: target.queue, id: meta?.id };
}

/**
 * Enqueues many jobs of one class in a single round trip. before_enqueue hooks run per job (vetoed jobs are left out),
 * after_enqueue hooks per job after the push. Returns what was enqueued, in order.
 */
export async function enqueueMany(
  ctx: ClientContext,
  job: JobRef<JsonValue[]>,
  queue: string | undefined,
  argsList: JsonValue[][],
): Promise<Enqueued[]> {
  if (!Array.isArray(argsList)) throw new TypeError('enqueueBulk expects an array of argument lists');
  const target = validated(job, queue, []);
  argsList.forEach((args, i) => {
    if (!Array.isArray(args)) assertJsonSafe(undefined, `argsList[${i}]`);
    assertArgsJsonSafe(args, `argsList[${i}]`);
  });
  const definition = definitionOf(ctx, job);
  assertUniqueAllowed(ctx, definition, target.className);
  const limitKeys = argsList.map((args) => keyOf(definition, target.className, args));
  const accepted: Accepted[] = [];
  for (const [i, args] of argsList.entries()) {
    if (await allowedByHooks(definition, args))
      accepted.push({
        args,
        meta: newMetadata(ctx, job, limitKeys[i] ?? {}),
        tenant: limitKeys[i]?.tenant,
        lock: limitKeys[i]?.uniqueLock,
      });
  }
  if (accepted.length === 0) return [];
  const send = async (trace: TraceCarrier | undefined) => {
    if (trace) for (const { meta } of accepted) if (meta) meta.trace = trace;
    return sendMany(ctx, definition, target, accepted);
  };
  // With tracing, one span for the batch, whose context every job carries: a span per job would cost a bulk of 10,000
  // as much tracing work as 10,000 enqueues, and each job's perform span still continues the caller's trace.
  const span = { operation: 'enqueue', ...target, jobIds: accepted.map((a) => a.meta?.id) } as const;
  const holders = ctx.tracing ? await (await ctx.tracing()).produce(span, send) : await send(undefined);
  const results: Enqueued[] = [];
  for (const [i, { args, meta }] of accepted.entries()) {
    const holder = holders[i];
    if (holder) results.push({ queue: target.queue, id: holder, duplicate: true });
    else {
      await runAfterEnqueue(definition, args);
      results.push({ queue: target.queue, id: meta?.id });
    }
  }
  return results;
}

/**
 * The jobs of one bulk enqueue, performed (inline) or pushed in one round trip. Returns per job the id of the job
 * holding its unique lock when it was left out for that, else '' (none at all when no job is unique).
 */
async function sendMany(
  ctx: ClientContext,
  definition: JobDefinition | undefined,
  target: { className: string; queue: string },
  accepted: readonly Accepted[],
): Promise<string[]> {
  if (!ctx.config.inline && accepted.some((a) => a.meta && locksAtEnqueue(a.lock)))
    return pushUnique(ctx, target.className, target.queue, accepted);
  if (ctx.config.inline) {
    for (const { args, meta } of accepted) {
      await performInline(ctx, definition, target.className, target.queue, args, meta?.id);
    }
  } else if (definition?.tenant) {
    await pushTenants(ctx, target.className, target.queue, accepted);
  } else {
    await execEnqueue(ctx, trackedOf(target.className, target.queue, accepted), (pipeline) => {
      pipeline.sadd(ctx.keys.queues, target.queue);
      for (let i = 0; i < accepted.length; i += BULK_PUSH_CHUNK) {
        const chunk = accepted
          .slice(i, i + BULK_PUSH_CHUNK)
          .map((a) => encodePayload(target.className, a.args, a.meta));
        pipeline.rpush(ctx.keys.queue(target.queue), ...chunk);
      }
      pipelineScript(
        pipeline,
        SCRIPTS.announce,
        [ctx.keys.nonEmptyQueues],
        [ctx.keys.announce, ctx.keys.queuePrefix, target.queue],
      );
    });
  }
  return [];
}

/** The metadata with the span's trace context, when there are both (strict payloads carry none). */
function withTrace(
  meta: EncodeMetadata | undefined,
  trace: TraceCarrier | undefined,
): EncodeMetadata | undefined {
  return meta && trace ? { ...meta, trace } : meta;
}

interface Accepted {
  args: JsonValue[];
  meta: EncodeMetadata | undefined;
  tenant: string | undefined;
  lock?: UniqueLock | undefined;
}

/**
 * Unique jobs of one class, in chunks of one script call each (enqueue_unique.lua), all in one round trip: each
 * takes its lock and is pushed, or is left out because its lock is held. Returns per job '' when pushed, else the id
 * of the job holding its lock.
 */
async function pushUnique(
  ctx: ClientContext,
  className: string,
  queue: string,
  accepted: readonly Accepted[],
): Promise<string[]> {
  const calls: Array<{ keys: string[]; args: Array<string | number> }> = [];
  for (let i = 0; i < accepted.length; i += BULK_PUSH_CHUNK) {
    const chunk = accepted.slice(i, i + BULK_PUSH_CHUNK);
    calls.push({
      keys: [...tenantKeys(ctx, queue), ...chunk.map((a) => ctx.keys.uniqueLock(a.lock?.key ?? ''))],
      args: [
        queue,
        ctx.keys.announce,
        ...chunk.flatMap((a) => [
          a.meta?.id ?? '',
          a.lock?.ttlMs ?? 1,
          a.tenant ?? '',
          encodePayload(className, a.args, a.meta),
        ]),
      ],
    });
  }
  const tracked = trackedOf(className, queue, accepted);
  const [only] = calls;
  if (only && calls.length === 1 && ctx.config.waitForReplicas === 0 && tracked.length === 0) {
    const reply = await runScript<unknown[]>(ctx.redis, SCRIPTS.enqueueUnique, only.keys, only.args);
    return reply.map(String);
  }
  const replies = await execEnqueue(ctx, tracked, (pipeline, call) => {
    for (const c of calls) queueScript(pipeline, SCRIPTS.enqueueUnique, c.keys, c.args, call === 'evalsha');
  });
  const holders = replies.slice(0, calls.length).flatMap((reply) => (reply as unknown[]).map(String));
  // A duplicate was not pushed: the record written for it goes (its holder has its own).
  const duplicates = accepted.flatMap(({ meta }, i) =>
    holders[i] && meta?.statusTtlMs !== undefined ? [ctx.keys.jobStatus(meta.id)] : [],
  );
  if (duplicates.length > 0) await ctx.redis.del(...duplicates);
  return holders;
}

/** Resque.inline: perform now, with arguments round-tripped through JSON so the job sees what a worker would. */
async function performInline(
  ctx: ClientContext,
  definition: JobDefinition | undefined,
  className: string,
  queue: string,
  args: JsonValue[],
  id: string | undefined,
): Promise<void> {
  const resolved = definition ?? ctx.jobs.resolve(className);
  if (!resolved) throw new UnknownJobClassError(className);
  const decodedArgs = roundTrip(args);
  const controller = new AbortController();
  await performJob(
    resolved,
    {
      id,
      queue,
      className,
      attempt: 1,
      returns: 0,
      signal: controller.signal,
      workerId: 'inline',
      progress: () => {},
      payload: { class: className, args: decodedArgs },
    },
    decodedArgs,
  );
}

/**
 * Jobs that name a tenant, in chunks of one script call each (enqueue_tenant.lua), all in one round trip: onto a fair
 * queue each goes to its tenant's list, onto any other queue to the queue's list.
 */
async function pushTenants(
  ctx: ClientContext,
  className: string,
  queue: string,
  accepted: readonly Accepted[],
): Promise<void> {
  await execEnqueue(ctx, trackedOf(className, queue, accepted), (pipeline) => {
    for (let i = 0; i < accepted.length; i += BULK_PUSH_CHUNK) {
      const pairs = accepted
        .slice(i, i + BULK_PUSH_CHUNK)
        .flatMap((a) => [a.tenant ?? '', encodePayload(className, a.args, a.meta)]);
      pipelineScript(pipeline, SCRIPTS.enqueueTenant, tenantKeys(ctx, queue), [
        queue,
        ctx.keys.announce,
        ...pairs,
      ]);
    }
  });
}

function tenantKeys(ctx: ClientContext, queue: string): string[] {
  return [ctx.keys.queues, ctx.keys.queue(queue), ctx.keys.fairQueues, ctx.keys.fairRotation(queue)];
}

/**
 * SADD + RPUSH + the announcement in one script call (enqueue.lua, or enqueue_tenant.lua for a job with a tenant);
 * with `waitForReplicas`, WAIT in the same round trip.
 */
async function push(
  ctx: ClientContext,
  queue: string,
  payload: string,
  tenant: string | undefined,
  tracked: readonly TrackedEnqueue[],
): Promise<void> {
  const script = tenant === undefined ? enqueueScript(ctx.keys) : SCRIPTS.enqueueTenant;
  const keys = tenant === undefined ? [ctx.keys.queues, ctx.keys.queue(queue)] : tenantKeys(ctx, queue);
  const args = tenant === undefined ? [queue, payload] : [queue, ctx.keys.announce, tenant, payload];
  if (tracked.length > 0)
    await execEnqueue(ctx, tracked, (multi, call) =>
      queueScript(multi, script, keys, args, call === 'evalsha'),
    );
  else if (ctx.config.waitForReplicas > 0)
    await execDurably(ctx, pipelineScript(ctx.redis.pipeline(), script, keys, args));
  else await runScript(ctx.redis, script, keys, args);
}

/**
 * Runs the commands `queue` builds: with tracked jobs among them, in one MULTI with their first status records
 * (status/enqueue.ts), then `WAIT` on its own when `waitForReplicas` asks (a WAIT inside the transaction would not
 * wait); else as a pipeline with `WAIT` in the same round trip. Returns the replies of the commands `queue` built.
 */
async function execEnqueue(
  ctx: ClientContext,
  tracked: readonly TrackedEnqueue[],
  queue: (pipeline: ChainableCommander, call: 'eval' | 'evalsha') => void,
): Promise<unknown[]> {
  if (tracked.length === 0) {
    const pipeline = ctx.redis.pipeline();
    queue(pipeline, 'eval');
    return execDurably(ctx, pipeline);
  }
  const replies = await pushWithStatus(ctx.redis, ctx.keys, tracked, queue);
  const { waitForReplicas, replicaTimeoutMs } = ctx.config;
  if (waitForReplicas > 0) {
    const confirmed = Number(await ctx.redis.call('WAIT', waitForReplicas, replicaTimeoutMs));
    if (confirmed < waitForReplicas)
      throw new NotReplicatedError(waitForReplicas, confirmed, replicaTimeoutMs);
  }
  return replies;
}

/**
 * Runs an enqueue pipeline, with Redis `WAIT` appended (same round trip) when `waitForReplicas` asks for it. Returns
 * the replies of its commands.
 */
async function execDurably(ctx: ClientContext, pipeline: ChainableCommander): Promise<unknown[]> {
  const { waitForReplicas, replicaTimeoutMs } = ctx.config;
  if (waitForReplicas > 0) pipeline.call('WAIT', waitForReplicas, replicaTimeoutMs);
  const results = await pipeline.exec();
  const values = pipelineValues(results);
  if (waitForReplicas > 0) {
    const confirmed = Number(results?.at(-1)?.[1] ?? 0);
    if (confirmed < waitForReplicas)
      throw new NotReplicatedError(waitForReplicas, confirmed, replicaTimeoutMs);
  }
  return values;
}
