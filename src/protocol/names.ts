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
