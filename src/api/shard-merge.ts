import type { ResqueInfo } from '../client/info.js';
import { compareStrings } from '../client/shard-merge.js';
import type { DelayedBacklog } from '../scheduler/overdue.js';
import type { ScheduleOverview } from '../scheduler/schedule-view.js';
import type { ClusterSnapshot } from './cluster-metrics.js';
import type { FlowControlView } from './limits.js';
import type { WorkerLiveness } from './liveness-check.js';
import type { RedisInfoSection } from './redis-info.js';
import type { RedisSafety } from './redis-safety.js';

/**
 * How the reads of a sharded namespace's shards add up to one answer (docs/cluster.md, Shards → Dashboard and CLI).
 * Pure functions over each shard's answer, by shard index.
 */

export function sumInfo(infos: readonly ResqueInfo[]): ResqueInfo {
  const first = infos[0]!;
  return {
    ...first,
    pending: sum(infos.map((i) => i.pending)),
    processed: sum(infos.map((i) => i.processed)),
    queues: sum(infos.map((i) => i.queues)),
    workers: sum(infos.map((i) => i.workers)),
    working: sum(infos.map((i) => i.working)),
    failed: sum(infos.map((i) => i.failed)),
    servers: [...new Set(infos.flatMap((i) => i.servers))].sort(),
  };
}

export function mergeFlowControl(views: readonly FlowControlView[]): FlowControlView {
  return {
    ...views[0]!,
    limits: views.flatMap((v, shard) => v.limits.map((l) => ({ ...l, shard }))),
    rates: views.flatMap((v, shard) => v.rates.map((r) => ({ ...r, shard }))),
    paused: views.flatMap((v) => v.paused),
    partial: views.some((v) => v.partial),
  };
}

/** The earliest delayed job of all shards; overdue counts added up. */
export function mergeBacklog(backlogs: readonly DelayedBacklog[]): DelayedBacklog {
  const dues = backlogs.flatMap((b) => (b.earliestDueMs === undefined ? [] : [b.earliestDueMs]));
  return {
    nowMs: backlogs[0]!.nowMs,
    earliestDueMs: dues.length > 0 ? Math.min(...dues) : undefined,
    lateMs: Math.max(...backlogs.map((b) => b.lateMs)),
    overdue: backlogs.some((b) => b.overdue),
    overdueSeconds: sum(backlogs.map((b) => b.overdueSeconds)),
    overdueJobs: sum(backlogs.map((b) => b.overdueJobs)),
    overdueJobsExact: backlogs.every((b) => b.overdueJobsExact),
  };
}

/** Each shard's stored schedules (a schedule stored on several shards is listed once per shard). */
export function mergeSchedules(overviews: readonly ScheduleOverview[]): ScheduleOverview {
  return {
    ...overviews[0]!,
    master: overviews.find((o) => o.master !== null)?.master ?? null,
    schedules: overviews.flatMap((o, shard) => o.schedules.map((row) => ({ ...row, shard }))),
  };
}

/** One entry per worker id: a worker registered on several shards is alive only if it is on each. */
export function mergeLiveness(lists: readonly WorkerLiveness[][]): WorkerLiveness[] {
  const byId = new Map<string, WorkerLiveness>();
  for (const entry of lists.flat()) {
    const seen = byId.get(entry.id);
    if (!seen || (seen.alive && !entry.alive)) byId.set(entry.id, entry);
  }
  return [...byId.values()].sort((a, b) => compareStrings(a.id, b.id));
}

export function mergeSnapshots(snapshots: readonly ClusterSnapshot[]): ClusterSnapshot {
  return {
    queues: snapshots.flatMap((s) => s.queues).sort(byName),
    workers: sum(snapshots.map((s) => s.workers)),
    working: sum(snapshots.map((s) => s.working)),
    processed: sum(snapshots.map((s) => s.processed)),
    failed: sum(snapshots.map((s) => s.failed)),
    failures: sum(snapshots.map((s) => s.failures)),
    delayedJobs: sum(snapshots.map((s) => s.delayedJobs)),
    delayedSeconds: sum(snapshots.map((s) => s.delayedSeconds)),
    delayedLateMs: Math.max(...snapshots.map((s) => s.delayedLateMs)),
  };
}

/**
 * INFO once per Redis server (told apart by `run_id`): on a single Redis all shards share one, on a cluster each
 * primary serving a shard is shown, its section names saying which shards it serves (`Server · shards 0, 3`).
 */
export function infoByNode(perShard: readonly RedisInfoSection[][]): RedisInfoSection[] {
  const nodes = new Map<string, { shards: number[]; sections: RedisInfoSection[] }>();
  perShard.forEach((sections, shard) => {
    const runId =
      sections.flatMap((s) => s.entries).find(([key]) => key === 'run_id')?.[1] ?? `shard ${shard}`;
    const node = nodes.get(runId);
    if (node) node.shards.push(shard);
    else nodes.set(runId, { shards: [shard], sections });
  });
  if (nodes.size === 1) return perShard[0]!;
  return [...nodes.values()].flatMap(({ shards, sections }) =>
    sections.map((s) => ({
      ...s,
      name: `${s.name} · ${shards.length > 1 ? 'shards' : 'shard'} ${shards.join(', ')}`,
    })),
  );
}

/** Every risk any shard's server has, once; the settings shown are the first shard's. */
export function mergeSafety(safeties: readonly RedisSafety[]): RedisSafety {
  const risks = new Map<string, RedisSafety['risks'][number]>();
  for (const safety of safeties)
    for (const risk of safety.risks) risks.set(`${risk.code}\n${risk.message}`, risk);
  return { ...safeties[0]!, risks: [...risks.values()] };
}

export function byName<T extends { name: string }>(a: T, b: T): number {
  return compareStrings(a.name, b.name);
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
