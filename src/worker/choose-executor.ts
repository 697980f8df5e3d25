import { resolve } from 'node:path';
import type { ResolvedConfig } from '../config/resolve.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Logger } from '../logging/logger.js';
import { tracerSourceFor } from '../observability/tracing.js';
import type { Executor } from './executor.js';
import { InProcessExecutor } from './in-process-executor.js';
import { SupervisedExecutor } from './supervisor/supervised-executor.js';

export interface ExecutorChoice {
  config: ResolvedConfig;
  jobs: JobRegistry;
  logger: Logger;
  /** Job modules the children load; without them jobs run in the worker's own process. */
  require: readonly string[] | undefined;
  setProcessTitle: boolean;
}

/**
 * `isolation: 'process'` with job modules to load: supervised children (./supervisor/). Otherwise, or with
 * `isolation: 'none'`: the worker's own process, the fastest path.
 */
export function chooseExecutor(choice: ExecutorChoice): Executor {
  const modules = choice.require ?? [];
  const tracing = tracerSourceFor(choice.config);
  if (choice.config.isolation !== 'process' || modules.length === 0)
    return new InProcessExecutor(choice.jobs, tracing);
  // The children load the API themselves; checking here fails a worker without it once, not in every child.
  return new SupervisedExecutor({
    modules: modules.map((path) => resolve(path)),
    config: choice.config,
    jobs: choice.jobs,
    logger: choice.logger,
    setProcessTitle: choice.setProcessTitle,
  });
}
