import type { QueueSummary } from '../../api/queues.js';
import { withAdmin } from '../admin-session.js';
import { CONNECTION_OPTIONS, type Command, EXIT } from '../command.js';
import { printTable } from '../output.js';
import { formatDuration, formatTime, iso, writeJson } from './support.js';

/** `resque queues`: every queue with its size and how long its next job has waited. */
export const queuesCommand: Command = {
  name: 'queues',
  noArguments: true,
  summary:
    'Queues with their sizes, the latency of their oldest job, and whether each is paused, limited or fair.',
  usage: '[options]',
  options: CONNECTION_OPTIONS,
  run({ values }, io) {
    return withAdmin(values, async (admin) => {
      const queues = await admin.queues();
      if (values['json']) {
        writeJson(
          io,
          queues.map((q) => ({
            ...q,
            oldestEnqueuedAt: iso(q.oldestEnqueuedAt),
            latencyMs: q.latencyMs ?? null,
            pausedAt: iso(q.pausedAt),
            limit: q.limit ?? null,
            parked: q.parked ?? null,
            fair: q.fair ? { ...q.fair, since: iso(q.fair.since) } : null,
          })),
        );
      } else {
        const sharded = admin.layout !== undefined;
        printTable(
          io.stdout,
          [...(sharded ? ['shard'] : []), 'queue', 'size', 'oldest waiting', 'enqueued at'],
          queues.map((q) => [
            ...(sharded ? [String(q.shard)] : []),
            describe(q),
            String(q.size),
            formatDuration(q.latencyMs),
            formatTime(q.oldestEnqueuedAt),
          ]),
        );
      }
      return EXIT.ok;
    });
  },
};

/** `billing (paused, limit 3, 12 parked)`, `exports (fair: 12 tenants, 5300 on tenant lists)`. */
function describe(q: QueueSummary): string {
  const notes = [
    ...(q.pausedAt ? ['paused'] : []),
    ...(q.limit !== undefined ? [`limit ${q.limit}`] : []),
    ...(q.parked ? [`${q.parked} parked`] : []),
    ...(q.fair
      ? [`fair: ${q.fair.tenants} tenants, ${q.fair.partial ? '≥ ' : ''}${q.fair.jobs} on tenant lists`]
      : []),
  ];
  return notes.length > 0 ? `${q.name} (${notes.join(', ')})` : q.name;
}
