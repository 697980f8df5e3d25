import type { JsonValue } from '../protocol/json.js';
import type { JobDefinition } from './define.js';

// biome-ignore lint/suspicious/noExplicitAny: a registry holds jobs of every argument type
export type AnyJob = JobDefinition<any>;

/** Job classes a worker can run, keyed by the exact class string on the wire. */
export class JobRegistry {
  private readonly byName = new Map<string, AnyJob>();

  constructor(jobs: Iterable<AnyJob> = []) {
    for (const job of jobs) this.add(job);
  }

  add<A extends JsonValue[]>(job: JobDefinition<A>): this {
    const existing = this.byName.get(job.className);
    if (existing && existing !== job) throw new Error(`Job class "${job.className}" is defined twice`);
    this.byName.set(job.className, job as AnyJob);
    return this;
  }

  /** Finds a class as Ruby's constantize would: exact, then without a leading "::", then dashed names classified. */
  resolve(className: string): AnyJob | undefined {
    return (
      this.byName.get(className) ??
      this.byName.get(className.replace(/^::/, '')) ??
      (className.includes('-') ? this.byName.get(classify(className)) : undefined)
    );
  }

  get names(): string[] {
    return [...this.byName.keys()].sort();
  }

  get size(): number {
    return this.byName.size;
  }
}

/** Ruby's `classify`: `"job-name"` → `"JobName"`. */
export function classify(dashed: string): string {
  return dashed
    .split('-')
    .map((piece) => piece.charAt(0).toUpperCase() + piece.slice(1))
    .join('');
}
