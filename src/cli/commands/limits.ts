import type { LimitView } from '../../api/limits.js';
import { withAdmin } from '../admin-session.js';
import { CONNECTION_OPTIONS, type Command, EXIT, UsageError } from '../command.js';
import { printTable } from '../output.js';
import { iso, writeJson } from './support.js';

/** `resque limits`: every concurrency limit with its running jobs against the limit, its parked jobs, busiest keys. */
export const limitsCommand: Command = {
  name: 'limits',
  summary:
    'Concurrency limits with the jobs running against each (running/limit), the jobs parked on it, the busiest ' +
    'keys of keyed limits, and the paused queues.',
  usage: '[options]',
  options: CONNECTION_OPTIONS,
  run({ values, positionals }, io) {
    return withAdmin(values, async (admin) => {
      if (positionals.length > 0)
        throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
      const view = await admin.flowControl();
      if (values['json']) {
        writeJson(io, {
          ...view,
          paused: view.paused.map((p) => ({ queue: p.queue, pausedAt: iso(p.pausedAt) })),
        });
        return EXIT.ok;
      }
      if (view.limits.length === 0) io.stdout.write('no concurrency limits\n');
      else
        printTable(
          io.stdout,
          ['limit', 'running', 'parked', 'busiest keys'],
          view.limits.map((l) => [
            l.kind === 'key' ? `${l.name} (per key)` : l.name,
            l.kind === 'key' ? `${l.running} (≤${l.limit} per key)` : `${l.running}/${l.limit}`,
            String(l.parked),
            busiest(l),
          ]),
        );
      if (view.partial) io.stdout.write('(many keys: keyed figures count the first 1,000 read)\n');
      if (view.paused.length > 0)
        io.stdout.write(`paused queues: ${view.paused.map((p) => p.queue).join(', ')}\n`);
      return EXIT.ok;
    });
  },
};

function busiest(limit: LimitView): string {
  if (!limit.keys) return '';
  const shown = limit.keys
    .slice(0, 3)
    .map((k) => `${k.key} ${k.running}/${limit.limit}${k.parked > 0 ? ` +${k.parked} parked` : ''}`);
  const more = (limit.activeKeys ?? 0) - shown.length;
  return [...shown, ...(more > 0 ? [`… ${more} more`] : [])].join(', ');
}
