import { overdueWarning } from '../../scheduler/overdue.js';
import { withAdmin } from '../admin-session.js';
import { CONNECTION_OPTIONS, type Command, EXIT } from '../command.js';
import { printTable } from '../output.js';
import { writeJson } from './support.js';

/** `resque info`: Resque.info, and the Redis settings that could lose jobs (see api/redis-safety.ts). */
export const infoCommand: Command = {
  name: 'info',
  noArguments: true,
  summary:
    "Resque's summary: pending, processed, queues, workers, working, failed; Redis settings that can lose jobs.",
  usage: '[options]',
  options: CONNECTION_OPTIONS,
  run({ values }, io) {
    return withAdmin(values, async (admin) => {
      const [info, safety, backlog] = await Promise.all([
        admin.info(),
        admin.redisSafety(),
        admin.delayedBacklog(),
      ]);
      const overdue = overdueWarning(backlog);
      const warnings = [...safety.risks, ...(overdue ? [{ code: 'DELAYED_OVERDUE', message: overdue }] : [])];
      if (values['json']) {
        writeJson(io, { ...info, warnings });
        return EXIT.ok;
      }
      printTable(
        io.stdout,
        ['field', 'value'],
        Object.entries(info).map(([k, v]) => [k, Array.isArray(v) ? v.join(' ') : String(v)]),
      );
      for (const warning of warnings) io.stdout.write(`warning: ${warning.message}\n`);
      return EXIT.ok;
    });
  },
};
