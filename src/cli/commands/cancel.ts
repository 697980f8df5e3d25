import type { CancelResult } from '../../cancel/cancel-job.js';
import { checkJobId } from '../../cancel/job-id-check.js';
import { withAdmin } from '../admin-session.js';
import { CONNECTION_OPTIONS, type Command, EXIT, UsageError } from '../command.js';
import { confirm } from '../confirm.js';
import { writeJson } from './support.js';

/** `resque cancel <id>`: cancels a job wherever it is (docs/cancel.md); asks first on a terminal, unless `--yes`. */
export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'Cancel a job by id: queued, delayed, retrying or running (its AbortSignal fires).',
  usage: '<job id> [--yes] [options]',
  options: { ...CONNECTION_OPTIONS, yes: { type: 'boolean', short: 'y' } },
  optionHelp: { yes: { description: 'Do not ask for confirmation on a terminal.' } },
  check({ positionals }) {
    if (positionals.length !== 1) throw new UsageError('exactly one job id is required');
  },
  run({ values, positionals }, io) {
    const id = checkJobId(positionals[0]);
    return withAdmin(values, async (admin) => {
      if (io.stdin?.isTTY === true && values['yes'] !== true) {
        if (!(await confirm(io, `Cancel job ${id}? [y/N] `))) {
          io.stderr.write('resque cancel: nothing cancelled\n');
          return EXIT.failure;
        }
      }
      const result = admin.layout ? await admin.cancelJob(id) : await admin.resque.cancel(id);
      if (values['json']) writeJson(io, result);
      else io.stdout.write(`${describe(result)}\n`);
      return result.was === 'finished' ? EXIT.failure : EXIT.ok;
    });
  },
};

function describe(result: CancelResult): string {
  switch (result.was) {
    case 'delayed':
      return `cancelled ${result.id}: removed from the delayed jobs`;
    case 'retrying':
      return `cancelled ${result.id}: removed from the jobs waiting to be retried`;
    case 'running':
      return `cancelling ${result.id}: worker ${result.workerId} was asked to stop it`;
    case 'queued':
      return `cancelled ${result.id}: it is dropped when a worker reaches it on its queue`;
    case 'unknown':
      return `${result.id} was not found delayed, retrying or running; if it waits on a queue it is dropped when a worker reaches it`;
    case 'finished':
      return `${result.id} has already ended (${result.state}): nothing to cancel`;
  }
}
