import type { WorkerSummary } from '../../api/workers.js';
import { withAdmin } from '../admin-session.js';
import { CONNECTION_OPTIONS, type Command, EXIT } from '../command.js';
import { printTable } from '../output.js';
import { formatTime, iso, writeJson } from './support.js';

/** `resque workers`: who is doing what, since when, and when each worker last said it was alive. */
export const workersCommand: Command = {
  name: 'workers',
  noArguments: true,
  summary: 'Registered workers: what each is running, since when, last heartbeat, counters.',
  usage: '[options]',
  options: CONNECTION_OPTIONS,
  run({ values }, io) {
    return withAdmin(values, async (admin) => {
      const workers = await admin.workers();
      if (values['json']) writeJson(io, workers.map(toJson));
      else {
        const sharded = admin.layout !== undefined;
        printTable(
          io.stdout,
          [
            ...(sharded ? ['shard'] : []),
            'worker',
            'queues',
            'state',
            'job',
            'since',
            'heartbeat',
            'processed',
            'failed',
          ],
          workers.map((w) => [
            ...(sharded ? [String(w.shard)] : []),
            `${w.host}:${w.pid}`,
            w.queues.join(','),
            w.stale ? `${w.state} (stale)` : w.state,
            w.job ? `${w.job.queue} ${w.job.className ?? '?'}` : '-',
            formatTime(w.job?.runAt ?? w.startedAt),
            formatTime(w.heartbeatAt),
            String(w.processed),
            String(w.failed),
          ]),
        );
      }
      return EXIT.ok;
    });
  },
};

function toJson(worker: WorkerSummary) {
  return {
    ...worker,
    job: worker.job ? { ...worker.job, runAt: iso(worker.job.runAt) } : null,
    startedAt: iso(worker.startedAt),
    heartbeatAt: iso(worker.heartbeatAt),
  };
}
