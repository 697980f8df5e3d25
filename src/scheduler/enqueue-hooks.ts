import { hooksFor } from '../jobs/define.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Logger } from '../logging/logger.js';

/**
 * resque-scheduler's before_delayed_enqueue hooks, run by the process that moves a delayed or recurring job to its
 * queue. A failing hook is logged and the job still moves (Ruby would lose it).
 */
export function delayedEnqueueHooks(
  jobs: JobRegistry,
  logger: Logger,
): (className: string, args: unknown[]) => Promise<void> {
  return async (className, args) => {
    for (const hook of hooksFor(jobs.resolve(className), 'before_delayed_enqueue')) {
      try {
        await hook(...(args as never[]));
      } catch (error) {
        logger.warn(`before_delayed_enqueue hook of ${className} failed: ${(error as Error).message}`);
      }
    }
  };
}
