import { queueLimitFromText } from '../../api/limits.js';
import { assertQueueName } from '../../protocol/names.js';
import { withAdmin } from '../admin-session.js';
import { CONNECTION_OPTIONS, type Command, EXIT, UsageError } from '../command.js';
import { existingQueue } from './queue-name.js';
import { writeJson } from './support.js';

const ACTIONS = ['clear', 'pause', 'resume', 'limit', 'unlimit', 'pause-all', 'resume-all'] as const;
type Action = (typeof ACTIONS)[number];

/**
 * `resque queue clear|pause|resume <name>` acts on one queue, `resque queue limit <name> <n>` / `unlimit <name>` set
 * and remove its concurrency limit; `resque queue pause-all|resume-all` sets or clears Ruby's `pause-all-workers`.
 */
export const queueCommand: Command = {
  name: 'queue',
  summary:
    'Act on queues: "clear <name>" drops all its jobs; "pause <name>" / "resume <name>" stop and restart resque-ts ' +
    'workers taking from it; "limit <name> <n>" lets at most n of its jobs run at once, "unlimit <name>" removes ' +
    'that; "pause-all" / "resume-all" set and clear pause-all-workers (Ruby workers too).',
  usage: 'clear|pause|resume|unlimit <name> | limit <name> <n> | pause-all|resume-all [options]',
  options: CONNECTION_OPTIONS,
  run({ values, positionals }, io) {
    return withAdmin(values, async (admin) => {
      const [given, name, ...extra] = positionals;
      if (!given) throw new UsageError('an action is required');
      if (!(ACTIONS as readonly string[]).includes(given)) throw new UsageError(`unknown action "${given}"`);
      const action = given as Action;
      const json = Boolean(values['json']);
      // On a sharded namespace the JSON says which shard the queue's action ran on.
      const onShard = (data: object) =>
        admin.layout && name !== undefined && 'queue' in data
          ? { ...data, shard: admin.shardOf(name) }
          : data;
      const say = (text: string, data: object) =>
        json ? writeJson(io, onShard(data)) : io.stdout.write(`${text}\n`);
      if (action === 'pause-all' || action === 'resume-all') {
        if (name !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(name)}`);
        const paused = action === 'pause-all';
        await admin.setAllWorkersPaused(paused);
        say(paused ? 'paused all workers (pause-all-workers is set)' : 'resumed all workers', {
          allPaused: paused,
        });
        return EXIT.ok;
      }
      if (!name) throw new UsageError('a queue name is required');
      if (action === 'limit') {
        const [text, ...more] = extra;
        if (text === undefined) throw new UsageError('a limit is required: resque queue limit <name> <n>');
        if (more.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(more[0])}`);
        assertQueueName(name);
        const limit = queueLimitFromText(name, text);
        await admin.limitQueue(name, limit);
        say(`limited ${name} to ${limit} job${limit === 1 ? '' : 's'} at once`, { queue: name, limit });
        return EXIT.ok;
      }
      if (extra.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
      if (action === 'unlimit') {
        const changed = await admin.unlimitQueue(name);
        say(changed ? `removed the limit of ${name}` : `${name} had no limit`, {
          queue: name,
          limit: null,
          changed,
        });
        return EXIT.ok;
      }
      await existingQueue(admin, name);
      if (action === 'clear') {
        const removed = await admin.clearQueue(name);
        say(`cleared ${name}: ${removed} job${removed === 1 ? '' : 's'} removed`, { queue: name, removed });
      } else if (action === 'pause') {
        const changed = await admin.pauseQueue(name);
        say(changed ? `paused ${name}` : `${name} was paused already`, {
          queue: name,
          paused: true,
          changed,
        });
      } else {
        const changed = await admin.resumeQueue(name);
        say(changed ? `resumed ${name}` : `${name} was not paused`, { queue: name, paused: false, changed });
      }
      return EXIT.ok;
    });
  },
};
