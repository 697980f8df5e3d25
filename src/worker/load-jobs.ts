import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ResqueOptions } from '../config/options.js';
import { ConfigError, ModuleLoadError } from '../errors/index.js';
import type { AnyJob } from '../jobs/registry.js';
import type { Logger } from '../logging/logger.js';
import type { PinoLike } from '../logging/pino.js';
import type { ErrorReporter } from '../observability/error-reporter.js';
import type { WorkerHooks } from './hooks.js';

/** What an application module may export for `resque work --require`/`--config`. */
export interface AppModule {
  jobs: AnyJob[];
  hooks: WorkerHooks;
  options: ResqueOptions;
  /** The config object's `errorReporter` and `logger`, given to the worker as they are. */
  errorReporter?: ErrorReporter;
  logger?: Logger | PinoLike;
}

type ConfigObject = { jobs?: unknown; hooks?: WorkerHooks } & Pick<AppModule, 'errorReporter' | 'logger'> &
  ResqueOptions;

/**
 * Loads application modules once. A module may export job definitions (named exports, or a default export that is
 * a job, an array of jobs, or a config object `{ jobs, hooks, errorReporter, logger, ...options }`).
 */
export async function loadAppModules(paths: readonly string[], cwd = process.cwd()): Promise<AppModule> {
  const app: AppModule = { jobs: [], hooks: {}, options: {} };
  for (const path of paths) {
    const file = resolve(cwd, path);
    if (!existsSync(file)) throw new ConfigError('require', `module not found: ${file}`);
    const loaded = await importModule(path, file);
    collect(app, loaded['default']);
    for (const [name, value] of Object.entries(loaded)) if (name !== 'default') collect(app, value, name);
  }
  return app;
}

/**
 * The module's exports. Node's own loading errors (a file it cannot resolve, a `.ts` it cannot run) go up as they are,
 * for the CLI to explain; an error the module's code threw (or its syntax) becomes a ModuleLoadError.
 */
async function importModule(path: string, file: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_')) throw error;
    throw new ModuleLoadError(path, error);
  }
}

function collect(app: AppModule, value: unknown, name?: string): void {
  if (isJob(value)) {
    if (!app.jobs.includes(value)) app.jobs.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collect(app, item);
  } else if (value && typeof value === 'object' && (name === undefined || name === 'config')) {
    const { jobs, hooks, errorReporter, logger, ...options } = value as ConfigObject;
    if (jobs !== undefined) collect(app, jobs);
    if (hooks) Object.assign(app.hooks, hooks);
    if (errorReporter) app.errorReporter = errorReporter;
    if (logger) app.logger = logger;
    Object.assign(app.options, options);
  } else if (name === 'hooks' && value && typeof value === 'object') {
    Object.assign(app.hooks, value);
  }
}

function isJob(value: unknown): value is AnyJob {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AnyJob).className === 'string' &&
    typeof (value as AnyJob).perform === 'function'
  );
}
