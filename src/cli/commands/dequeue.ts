import { QueueNotFoundError } from '../../errors/index.js';
import { CONNECTION_OPTIONS, type Command, EXIT, UsageError } from '../command.js';
import { jsonArguments, requiredString, runAdmin, writeJson } from './support.js';

/** `resque dequeue <Class> [json args…] --queue q`: removes queued jobs of a class (with those arguments, if given). */
export const dequeueCommand: Command = {
  name: 'dequeue',
  summary: 'Remove queued jobs of a class from a queue (only those with the given JSON arguments, if any).',
  usage:
    '<Class> [json args…] --queue q [--redis URL] [--namespace NS] [--json]   (use -- before args like -1)',
  options: { ...CONNECTION_OPTIONS, queue: { type: 'string', short: 'q' } },
  run({ values, positionals }, io) {
    return runAdmin(this, values, io, async (admin) => {
      const [className, ...texts] = positionals;
      if (!className) throw new UsageError('a job class is required');
      const queue = requiredString(values, 'queue');
      const args = jsonArguments(texts);
      if (!(await admin.hasQueue(queue))) throw new QueueNotFoundError(queue);
      const removed = (await admin.resque.dequeueFrom(queue, className, ...args)) ?? 0;
      if (values['json'])
        writeJson(io, { queue, class: className, args: texts.length > 0 ? args : null, removed });
      else io.stdout.write(`removed ${removed} ${className} job${removed === 1 ? '' : 's'} from ${queue}\n`);
      return EXIT.ok;
    });
  },
};
