import { withAdmin } from '../admin-session.js';
import { CONNECTION_OPTIONS, type Command, EXIT, UsageError } from '../command.js';
import { existingQueue } from './queue-name.js';
import { jsonArguments, requiredString, writeJson } from './support.js';

/** `resque dequeue <Class> [json args…] --queue q`: removes queued jobs of a class (with those arguments, if given). */
export const dequeueCommand: Command = {
  name: 'dequeue',
  summary: 'Remove queued jobs of a class from a queue (only those with the given JSON arguments, if any).',
  usage: '<Class> [json args…] --queue q [options]   (put -- before arguments like -1)',
  options: { ...CONNECTION_OPTIONS, queue: { type: 'string', short: 'q' } },
  optionHelp: { queue: { value: 'queue', description: 'The queue to remove the jobs from (required).' } },
  run({ values, positionals }, io) {
    return withAdmin(values, async (admin) => {
      const [className, ...texts] = positionals;
      if (!className) throw new UsageError('a job class is required');
      const queue = requiredString(values, 'queue');
      const args = jsonArguments(texts);
      await existingQueue(admin, queue);
      const removed = (await admin.forQueue(queue).resque.dequeueFrom(queue, className, ...args)) ?? 0;
      if (values['json'])
        writeJson(io, { queue, class: className, args: texts.length > 0 ? args : null, removed });
      else io.stdout.write(`removed ${removed} ${className} job${removed === 1 ? '' : 's'} from ${queue}\n`);
      return EXIT.ok;
    });
  },
};
