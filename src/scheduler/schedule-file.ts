import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DuplicateScheduleError, InvalidScheduleError } from '../errors/index.js';
import type { ScheduleConfig } from './schedule-config.js';

/**
 * Reads a schedule file in resque-scheduler's format: a YAML (or JSON, which YAML reads too) mapping of name →
 * config. A name given twice is refused (DuplicateScheduleError), not silently overwritten.
 */
export function readScheduleFile(path: string): Array<[string, ScheduleConfig]> {
  const source = readFileSync(path, 'utf8');
  const document = yaml().parseDocument(source, { uniqueKeys: true });
  for (const error of document.errors) {
    if (error.code === 'DUPLICATE_KEY') {
      // The error points at the repeated key: its text runs to the next ':'.
      const key = source
        .slice(error.pos[0])
        .split(':')[0]!
        .trim()
        .replace(/^["']|["']$/g, '');
      throw new DuplicateScheduleError(key);
    }
    throw new InvalidScheduleError(path, `not valid YAML or JSON: ${error.message}`);
  }
  const value = document.toJS() as unknown;
  if (value === null || value === undefined) return [];
  if (typeof value !== 'object' || Array.isArray(value))
    throw new InvalidScheduleError(path, 'expected a mapping of schedule name to its config');
  return Object.entries(value as Record<string, ScheduleConfig>);
}

/** The YAML parser, loaded the first time a schedule file is read: a worker importing the package never needs it. */
function yaml(): typeof import('yaml') {
  parser ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return parser;
}
let parser: typeof import('yaml') | undefined;
