import { withAdmin } from '../admin-session.js';
import { CONNECTION_OPTIONS, type Command, EXIT, UsageError } from '../command.js';
import { existingQueue } from './queue-name.js';
import { writeJson } from './support.js';

/** `resque queue clear <name>`: drops every job of one queue (the queue stays listed). */
export const queueCommand: Command = {
  name: 'queue',
  summary: 'Act on one queue: "clear <name>" drops all its jobs.',
  usage: 'clear <name> [options]',
  options: CONNECTION_OPTIONS,
  run({ values, positionals }, io) {
    return withAdmin(values, async (admin) => {
      const [action, name, ...extra] = positionals;
      if (action !== 'clear')
        throw new UsageError(action ? `unknown action "${action}"` : 'an action is required');
      if (!name) throw new UsageError('a queue name is required');
      if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
      await existingQueue(admin, name);
      const removed = await admin.clearQueue(name);
      if (values['json']) writeJson(io, { queue: name, removed });
      else io.stdout.write(`cleared ${name}: ${removed} job${removed === 1 ? '' : 's'} removed\n`);
      return EXIT.ok;
    });
  },
};
