import { NoQueueError } from '../errors/index.js';

/**
 * A worker's queue list as Resque reads it (docs/protocol.md, Queue lists): order is priority; `*`, `?`, `[...]` patterns
 * and `!exclusions` make the list dynamic, expanded from the `queues` set on every reservation.
 */
export class QueuePatterns {
  readonly patterns: readonly string[];
  readonly exclusions: readonly string[];
  readonly dynamic: boolean;

  constructor(list: readonly string[]) {
    const entries = list.map((q) => q.trim()).filter((q) => q.length > 0);
    this.patterns = entries.filter((q) => !q.startsWith('!'));
    this.exclusions = entries.filter((q) => q.startsWith('!')).map((q) => q.slice(1));
    if (this.patterns.length === 0) throw new NoQueueError('Please give each worker at least one queue.');
    this.dynamic = this.exclusions.length > 0 || entries.some((q) => /[*?{}[\]]/.test(q));
  }

  /** The concrete queue list: patterns in order, matches of each sorted alphabetically, exclusions removed, deduplicated. */
  expand(known: readonly string[]): string[] {
    if (!this.dynamic) return [...new Set(this.patterns)];
    const sorted = [...known].sort();
    const result: string[] = [];
    const seen = new Set<string>();
    for (const pattern of this.patterns) {
      for (const queue of sorted) {
        if (seen.has(queue) || !fnmatch(pattern, queue)) continue;
        if (this.exclusions.some((exclusion) => fnmatch(exclusion, queue))) continue;
        seen.add(queue);
        result.push(queue);
      }
    }
    return result;
  }

  /** Could `queue` be in this worker's list (used to decide whether a wake-up concerns us)? */
  covers(queue: string): boolean {
    return this.patterns.some((p) => fnmatch(p, queue)) && !this.exclusions.some((e) => fnmatch(e, queue));
  }
}

/**
 * Ruby's `File.fnmatch?(pattern, name)` with no flags: `*` any run, `?` one character, `[...]` a class (`!`/`^`
 * negates, ranges), `\` escapes; braces are literal; a leading `.` is not matched by a wildcard.
 */
export function fnmatch(pattern: string, name: string): boolean {
  return compile(pattern).test(name);
}

const compiled = new Map<string, RegExp>();

function compile(pattern: string): RegExp {
  let regex = compiled.get(pattern);
  if (regex) return regex;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') source += i === 0 ? '(?!\\.)[\\s\\S]*' : '[\\s\\S]*';
    else if (c === '?') source += i === 0 ? '(?!\\.)[\\s\\S]' : '[\\s\\S]';
    else if (c === '\\' && i + 1 < pattern.length) source += escapeRegex(pattern[++i]!);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        source += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, end);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      source += `[${negated ? '^' : ''}${body.replace(/[\]\\]/g, '\\$&')}]`;
      i = end;
    } else source += escapeRegex(c);
  }
  regex = new RegExp(`^${source}$`);
  compiled.set(pattern, regex);
  return regex;
}

function escapeRegex(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
