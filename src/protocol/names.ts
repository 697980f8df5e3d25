import { InvalidClassNameError, InvalidQueueNameError } from '../errors/index.js';

/**
 * Queue names become part of worker ids (`host:pid:q1,q2`) and keys; Ruby splits ids on ":" and queue lists on ",",
 * so a name with either would be misread by Ruby's pruning and resque-web (docs/protocol.md, Queue names; Known weaknesses of Ruby Resque, 9).
 */
export function assertQueueName(queue: unknown): asserts queue is string {
  if (typeof queue !== 'string') throw new InvalidQueueNameError(queue, 'must be a string');
  if (queue.trim() === '') throw new InvalidQueueNameError(queue, 'must not be empty');
  if (queue !== queue.trim()) throw new InvalidQueueNameError(queue, 'must not start or end with whitespace');
  if (queue.includes(','))
    throw new InvalidQueueNameError(queue, 'must not contain "," (it separates queues in worker ids)');
  if (queue.includes(':'))
    throw new InvalidQueueNameError(queue, 'must not contain ":" (it separates worker id parts)');
  if (/[\s\u0000-\u001f]/.test(queue))
    throw new InvalidQueueNameError(queue, 'must not contain whitespace or control characters');
  if (queue.startsWith('!'))
    throw new InvalidQueueNameError(queue, 'must not start with "!" (it marks exclusions)');
  if (/[*?[\]{}]/.test(queue))
    throw new InvalidQueueNameError(queue, 'must not contain glob characters * ? [ ] { }');
}

/**
 * An entry of a worker's queue list: a queue name as assertQueueName takes it, or a pattern (`*`, `file_*`, `[ab]?`)
 * or an exclusion (`!slow`) made of the same characters, so that a worker never waits on a queue the API would not
 * let anyone enqueue to. Weights (`critical:5`) are split off before (worker/queue-weights.ts).
 */
export function assertQueuePattern(entry: unknown): asserts entry is string {
  if (typeof entry !== 'string') throw new InvalidQueueNameError(entry, 'must be a string');
  const body = entry.startsWith('!') ? entry.slice(1) : entry;
  if (body.trim() === '') throw new InvalidQueueNameError(entry, 'must not be empty');
  if (body.startsWith('!')) throw new InvalidQueueNameError(entry, 'must not start with "!!"');
  try {
    assertQueueName(body.replace(/[*?[\]{}]/g, '_'));
  } catch (error) {
    if (!(error instanceof InvalidQueueNameError)) throw error;
    throw new InvalidQueueNameError(entry, error.reason);
  }
}

/** Class names are Ruby constant paths (`App::Jobs::Export`) or any identifier-like name a registry maps. */
export function assertClassName(className: unknown): asserts className is string {
  if (typeof className !== 'string') throw new InvalidClassNameError(className, 'must be a string');
  if (className.trim() === '') throw new InvalidClassNameError(className, 'must not be empty');
  if (!/^(::)?[A-Za-z_][\w-]*(::[A-Za-z_][\w-]*)*$/.test(className)) {
    throw new InvalidClassNameError(
      className,
      'must be a constant path like "Archive" or "App::Jobs::Export"',
    );
  }
}
