import { hostname } from 'node:os';
import type { WorkerLiveness } from '../../api/liveness-check.js';
import { withAdmin } from '../admin-session.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, type Command, EXIT } from '../command.js';
import { positiveInteger, stringOption, writeJson } from './support.js';

/**
 * `resque health`: an exec probe. Are this host's workers (or one worker) alive, by the rule their peers' reapers
 * apply? One line (or one JSON object) and exit 0 when every worker checked is alive, 1 when one is dead or none is
 * registered, 3 when Redis cannot be reached.
 */
export const healthCommand: Command = {
  name: 'health',
  noArguments: true,
  summary:
    "Check that this host's workers (or one worker) are alive by their liveness beat in Redis: exit 0 alive, 1 dead or none, 3 no Redis.",
  usage: '[--host name] [--pid n] [--worker id] [--json] [--redis URL] [--namespace NS]',
  options: {
    host: { type: 'string' },
    pid: { type: 'string' },
    worker: { type: 'string', short: 'w' },
    ...CONNECTION_OPTIONS,
  },
  optionHelp: {
    host: {
      value: 'name',
      description: 'The host whose resque-ts workers to check (their worker ids start with it).',
      default: 'this host name',
    },
    pid: { value: 'n', description: 'Only the worker process with this pid on the host.' },
    worker: {
      value: 'id',
      description: "One worker by its id (host:pid:queues); a Ruby worker's is judged by its heartbeat.",
    },
    ...CONNECTION_HELP,
  },
  run({ values }, io) {
    return withAdmin(values, async (admin) => {
      const host = stringOption(values, 'host') ?? hostname();
      const workerId = stringOption(values, 'worker');
      const pid = values['pid'] === undefined ? undefined : positiveInteger(values, 'pid', 0);
      const [workers, backlog] = await Promise.all([
        admin.liveness(workerId === undefined ? { host, pid } : { workerId }),
        admin.delayedBacklog(),
      ]);
      const ok = workers.length > 0 && workers.every((w) => w.alive);
      // Overdue delayed jobs say no process promotes them: a warning, not a failed probe of these workers.
      const delayedOverdue = backlog.overdue
        ? { jobs: backlog.overdueJobs, exact: backlog.overdueJobsExact, lateMs: backlog.lateMs }
        : undefined;
      if (values['json'])
        writeJson(io, { ok, host: workerId === undefined ? host : undefined, workers, delayedOverdue });
      else {
        io.stdout.write(`${summary(workers, ok, workerId ?? `host ${host}${pid ? ` pid ${pid}` : ''}`)}\n`);
        if (delayedOverdue)
          io.stdout.write(
            `warning: ${delayedOverdue.exact ? '' : 'at least '}${delayedOverdue.jobs} delayed job(s) overdue, the ` +
              `earliest by ${Math.round(delayedOverdue.lateMs / 1000)} s: no process promotes them ` +
              '(start resque work or resque scheduler)\n',
          );
      }
      return ok ? EXIT.ok : EXIT.failure;
    });
  },
};

function summary(workers: readonly WorkerLiveness[], ok: boolean, what: string): string {
  if (workers.length === 0) return `dead: no resque-ts worker registered for ${what}`;
  const shown = (ok ? workers : workers.filter((w) => !w.alive)).map(describe).join(', ');
  return `${ok ? 'alive' : 'dead'}: ${shown}`;
}

function describe(worker: WorkerLiveness): string {
  if (worker.ageMs === undefined) return `${worker.id} (no beat or heartbeat)`;
  const age = `${(worker.ageMs / 1000).toFixed(1)} s ago`;
  const beat = worker.rule === 'liveness' ? 'beat' : 'heartbeat';
  return worker.alive
    ? `${worker.id} (${beat} ${age})`
    : `${worker.id} (last ${beat} ${age}, dead after ${worker.timeoutMs / 1000} s)`;
}
