import { withAdmin } from '../admin-session.js';
import { CONNECTION_OPTIONS, type Command, EXIT } from '../command.js';
import { printTable } from '../output.js';
import { formatDuration, formatTime, iso, writeJson } from './support.js';

/** `resque queues`: every queue with its size and how long its next job has waited. */
export const queuesCommand: Command = {
  name: 'queues',
  summary: 'Queues with their sizes and the latency of their oldest job.',
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
          })),
        );
      } else {
        printTable(
          io.stdout,
          ['queue', 'size', 'oldest waiting', 'enqueued at'],
          queues.map((q) => [
            q.pausedAt ? `${q.name} (paused)` : q.name,
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
