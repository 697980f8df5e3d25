// The common enqueue, worked out once: a job definition with no unique lock, tenant, keyed limit, status tracking,
// retry options or enqueue hooks, on a client without tracing, inline mode, strict payloads or replica waits. All
// that does not depend on the arguments (names checked, key names, the payload's head, the script) is kept per
// client, definition and queue; an enqueue then checks its arguments, encodes them and makes one script call. The
// bytes pushed are those of the general path (protocol/payload.ts).
import { hooksFor, type JobDefinition } from '../jobs/define.js';
import { assertArgsJsonSafe, type JsonValue } from '../protocol/json.js';
import { assertClassName } from '../protocol/names.js';
import { encodeIdentified, payloadHead } from '../protocol/payload.js';
import { type LuaScript, runScript } from '../redis/scripts.js';
import { statusTtlOf } from '../status/options.js';
import type { ClientContext } from './context.js';
import { enqueueScript } from './enqueue-script.js';
import { newJobId } from './job-id.js';

export interface PlainPush {
  readonly queue: string;
  readonly keys: readonly [queues: string, queue: string];
  readonly head: string;
  readonly script: LuaScript;
}

/** Queues remembered per client and definition; names made up per call (one queue per customer…) stay bounded. */
const MAX_QUEUES_PER_DEFINITION = 256;

/** Per client, per plain definition: its pushes by queue given (`undefined`: its own). Null: not a plain definition. */
const plans = new WeakMap<ClientContext, WeakMap<JobDefinition, Map<string | undefined, PlainPush> | null>>();

/** Whether enqueues of `definition` need nothing beyond the job's id and enqueue time. */
function isPlain(definition: JobDefinition): boolean {
  return (
    definition.unique === undefined &&
    definition.tenant === undefined &&
    definition.concurrency?.key === undefined &&
    definition.rate?.key === undefined &&
    definition.enqueueRetry === undefined &&
    statusTtlOf(definition.enqueueStatus ?? definition.status) === undefined &&
    hooksFor(definition, 'before_enqueue').length === 0 &&
    hooksFor(definition, 'after_enqueue').length === 0
  );
}

/**
 * The plain push of `job` onto `queue` (its own queue when undefined), or undefined when this enqueue needs the
 * general path. `checkQueue` validates the queue name (throwing its error) before it is remembered.
 */
export function plainPushOf(
  ctx: ClientContext,
  job: JobDefinition | string,
  queue: string | undefined,
  checkQueue: (job: JobDefinition, queue: string | undefined) => string,
): PlainPush | undefined {
  // A definition is remembered by identity: defineJob, withRetry and withStatus freeze theirs.
  if (typeof job === 'string' || ctx.tracing || !Object.isFrozen(job)) return undefined;
  const { config } = ctx;
  if (config.inline || config.strictPayloads || config.waitForReplicas > 0) return undefined;
  let byDefinition = plans.get(ctx);
  if (!byDefinition) {
    byDefinition = new WeakMap();
    plans.set(ctx, byDefinition);
  }
  let byQueue = byDefinition.get(job);
  if (byQueue === undefined) {
    byQueue = isPlain(job) ? new Map() : null;
    byDefinition.set(job, byQueue);
  }
  if (byQueue === null) return undefined;
  let plan = byQueue.get(queue);
  if (!plan) {
    assertClassName(job.className);
    const name = checkQueue(job, queue);
    plan = {
      queue: name,
      keys: [ctx.keys.queues, ctx.keys.queue(name)],
      head: payloadHead(job.className),
      script: enqueueScript(ctx.keys),
    };
    if (byQueue.size >= MAX_QUEUES_PER_DEFINITION) byQueue.clear();
    byQueue.set(queue, plan);
  }
  return plan;
}

/** Pushes one job the plain way: its arguments checked (nothing is written when they fail), one script call. */
export async function pushPlain(
  ctx: ClientContext,
  plan: PlainPush,
  args: JsonValue[],
): Promise<{ queue: string; id: string }> {
  assertArgsJsonSafe(args, 'args');
  const id = newJobId();
  const payload = encodeIdentified(plan.head, args, id, Date.now() / 1000);
  await runScript(ctx.redis, plan.script, plan.keys, [plan.queue, payload]);
  return { queue: plan.queue, id };
}
