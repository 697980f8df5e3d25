import { withAdmin } from '../admin-session.js';
import { CONNECTION_OPTIONS, type Command, EXIT, UsageError } from '../command.js';
import { jsonArguments, requiredString, writeJson } from './support.js';

/** `resque enqueue <Class> [json args…] --queue q`: pushes one job, as Resque.enqueue_to would. */
export const enqueueCommand: Command = {
  name: 'enqueue',
  summary: 'Push a job onto a queue; each argument is JSON (42, \'"text"\', \'{"a":1}\').',
  usage: '<Class> [json args…] --queue q [options]   (put -- before arguments like -1)',
  options: { ...CONNECTION_OPTIONS, queue: { type: 'string', short: 'q' } },
  optionHelp: { queue: { value: 'queue', description: 'The queue to push onto (required).' } },
  run({ values, positionals }, io) {
    return withAdmin(values, async (admin) => {
      const [className, ...texts] = positionals;
      if (!className) throw new UsageError('a job class is required');
      const queue = requiredString(values, 'queue');
      const args = jsonArguments(texts);
      const enqueued = await admin.forQueue(queue).resque.enqueueTo(queue, className, ...args);
      if (values['json']) writeJson(io, { queue, class: className, args, id: enqueued?.id ?? null });
      else
        io.stdout.write(`enqueued ${className} on ${queue}${enqueued?.id ? ` (id ${enqueued.id})` : ''}\n`);
      return EXIT.ok;
    });
  },
};
