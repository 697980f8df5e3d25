// What the dashboard and `resque queues` show of fair queues (docs/flow-control.md, Fair sharing): how many tenants
// have jobs and how many jobs wait on their lists, and a queue's busiest tenants. Reads are bounded: at most
// TENANTS_READ tenants of a rotation are sized per request, however many there are; past that the figures say so.
import { type AdminContext, pipelineValues } from './context.js';

/** At most this many tenants of one queue's rotation are sized per request. */
export const TENANTS_READ = 1000;

/** A fair queue in a queue list. */
export interface FairSummary {
  /** When the queue was made fair. */
  since: Date;
  /** Tenants with jobs waiting (the length of the rotation). */
  tenants: number;
  /** Jobs waiting on the tenants' lists (of the tenants read, when `partial`). */
  jobs: number;
  /** More tenants than TENANTS_READ: `jobs` counts those read only. */
  partial: boolean;
}

export interface TenantRow {
  tenant: string;
  /** Jobs on its list. */
  size: number;
  /** Jobs it is served per turn (1 unless weighed). */
  weight: number;
}

/** A fair queue's page: its figures and its busiest tenants, most jobs first. */
export interface TenantsView extends FairSummary {
  busiest: TenantRow[];
}

/**
 * The fair figures of each of `names` that is fair (`fairEntries`: `ts:fair-queues`, queue → ms): one pipeline of
 * the rotations, one of the tenant lists read. Queues that are not fair are left out.
 */
export async function fairSummaries(
  ctx: AdminContext,
  names: readonly string[],
  fairEntries: Record<string, string>,
): Promise<Map<string, FairSummary>> {
  const fair = names.filter((name) => fairEntries[name] !== undefined);
  const sized = await sizeTenants(ctx, fair);
  return new Map(
    fair.map((name, i) => {
      const { tenants, sizes } = sized[i]!;
      return [name, summaryOf(fairEntries[name]!, tenants, sizes)];
    }),
  );
}

/** One queue's fair figures and its `shown` busiest tenants with their weights; undefined when it is not fair. */
export async function tenantsView(
  ctx: AdminContext,
  queue: string,
  shown = 10,
): Promise<TenantsView | undefined> {
  const since = await ctx.redis.hget(ctx.keys.fairQueues, queue);
  if (since === null) return undefined;
  const [{ tenants, sizes }] = (await sizeTenants(ctx, [queue])) as [SizedTenants];
  const busiest = [...sizes]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, Math.max(0, shown));
  const weights =
    busiest.length === 0
      ? []
      : await ctx.redis.hmget(ctx.keys.fairWeights(queue), ...busiest.map(([tenant]) => tenant));
  return {
    ...summaryOf(since, tenants, sizes),
    busiest: busiest.map(([tenant, size], i) => ({ tenant, size, weight: Number(weights[i] ?? 1) })),
  };
}

interface SizedTenants {
  /** The rotation's length. */
  tenants: number;
  /** The tenants read (at most TENANTS_READ, in serving order) with their list lengths. */
  sizes: Array<[string, number]>;
}

async function sizeTenants(ctx: AdminContext, queues: readonly string[]): Promise<SizedTenants[]> {
  if (queues.length === 0) return [];
  const rotations = ctx.redis.pipeline();
  for (const queue of queues)
    rotations.llen(ctx.keys.fairRotation(queue)).lrange(ctx.keys.fairRotation(queue), 0, TENANTS_READ - 1);
  const read = pipelineValues(await rotations.exec());
  const lists = ctx.redis.pipeline();
  let listed = 0;
  queues.forEach((queue, i) => {
    for (const tenant of read[i * 2 + 1] as string[]) {
      lists.llen(ctx.keys.fairTenant(queue, tenant));
      listed++;
    }
  });
  const lengths = listed > 0 ? pipelineValues(await lists.exec()).map(Number) : [];
  let at = 0;
  return queues.map((_, i) => {
    const tenants = read[i * 2 + 1] as string[];
    const sizes = tenants.map((tenant): [string, number] => [tenant, lengths[at++] ?? 0]);
    return { tenants: Number(read[i * 2]), sizes };
  });
}

function summaryOf(since: string, tenants: number, sizes: ReadonlyArray<[string, number]>): FairSummary {
  return {
    since: new Date(Number(since)),
    tenants,
    jobs: sizes.reduce((sum, [, size]) => sum + size, 0),
    partial: tenants > sizes.length,
  };
}
