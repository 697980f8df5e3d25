import { createHash } from 'node:crypto';
import { NoQueueError } from '../errors/index.js';
import { globRule, hasWildcard, literalPrefix, matchesLeadingDot, unescapeGlob } from './glob-rule.js';
import { WeightedTurns } from './queue-weights.js';

/** One entry of a worker's queue list as reserve.lua reads it, in priority order. */
export type QueueEntry =
  | { kind: 'queue'; name: string }
  | { kind: 'glob'; glob: string; prefix: string; rule: Buffer };

/**
 * A worker's queue list as Resque reads it (docs/protocol.md, Queue lists): order is priority; `*`, `?`, `[...]` patterns
 * and `!exclusions` make the list dynamic, expanded from the `queues` set on every reservation.
 */
export class QueuePatterns {
  readonly patterns: readonly string[];
  readonly exclusions: readonly string[];
  readonly dynamic: boolean;

  /**
   * `weights`: an entry's weight by its pattern as written (worker/queue-weights.ts); empty for Resque's strict order.
   */
  constructor(
    list: readonly string[],
    private readonly weights: ReadonlyMap<string, number> = new Map(),
  ) {
    const entries = list.map((q) => q.trim()).filter((q) => q.length > 0);
    this.patterns = entries.filter((q) => !q.startsWith('!'));
    this.exclusions = entries.filter((q) => q.startsWith('!')).map((q) => q.slice(1));
    if (this.patterns.length === 0) throw new NoQueueError('Please give each worker at least one queue.');
    this.dynamic = this.exclusions.length > 0 || entries.some((q) => /[*?{}[\]]/.test(q));
  }

  /**
   * The list as reserve.lua walks it: named queues, and globs it resolves against the non-empty index; named queues
   * an exclusion removes are left out here, glob matches are tested against `exclusionRules` in the script.
   */
  get entries(): readonly QueueEntry[] {
    if (this.entryCache) return this.entryCache;
    const entries: QueueEntry[] = [];
    const weights: number[] = [];
    for (const pattern of this.patterns) {
      const before = entries.length;
      if (this.dynamic && hasWildcard(pattern))
        entries.push({
          kind: 'glob',
          glob: pattern,
          prefix: literalPrefix(pattern),
          rule: globRule(pattern),
        });
      else {
        const name = this.dynamic ? unescapeGlob(pattern) : pattern;
        if (!this.exclusions.some((e) => fnmatch(e, name))) entries.push({ kind: 'queue', name });
      }
      if (entries.length > before) weights.push(this.weights.get(pattern) ?? 1);
    }
    this.entryCache = entries;
    this.entryWeights = weights;
    return entries;
  }
  private entryCache: QueueEntry[] | undefined;
  private entryWeights: number[] = [];
  private turns: WeightedTurns | undefined;

  /**
   * The entry the next reservation call takes from first (0-based), the others following in their order (a call takes
   * from its first queue with jobs); undefined for Resque's strict order.
   */
  nextTurn(): number | undefined {
    const entries = this.entries;
    if (this.weights.size === 0 || entries.length < 2) return undefined;
    this.turns ??= new WeightedTurns(this.entryWeights);
    return this.turns.next();
  }

  get exclusionRules(): readonly Buffer[] {
    return this.exclusions.map(globRule);
  }

  /**
   * The list as reserve.lua reads it from Redis (`ts:queue-list:<digest>`, stored once and not sent with every call):
   * the number of entries, 3 values per entry (`q`, name, '' or `g`, literal prefix, rule), then the exclusion rules.
   * The digest names exactly these values, so workers with the same list share one copy.
   */
  get storedList(): { digest: string; values: ReadonlyArray<string | Buffer> } {
    if (this.storedListCache) return this.storedListCache;
    const values: Array<string | Buffer> = [String(this.entries.length)];
    for (const entry of this.entries) {
      if (entry.kind === 'queue') values.push('q', entry.name, '');
      else values.push('g', entry.prefix, entry.rule);
    }
    values.push(...this.exclusionRules);
    const hash = createHash('sha1');
    for (const value of values) {
      const bytes = Buffer.from(value);
      hash.update(`${bytes.length}:`).update(bytes);
    }
    this.storedListCache = { digest: hash.digest('hex'), values };
    return this.storedListCache;
  }
  private storedListCache: { digest: string; values: Array<string | Buffer> } | undefined;

  /** The queues this list names: each has a wake list of its own. */
  get named(): readonly string[] {
    return this.entries.flatMap((entry) => (entry.kind === 'queue' ? [entry.name] : []));
  }

  /**
   * A list with globs listens for pushes to the queues they cover on one wake list shared by every worker with the
   * same list, registered with rules announce.lua tests: '+' a glob, '-' an exclusion or a queue listened to by name.
   */
  get globListener(): { name: string; rules: Buffer } | undefined {
    const globs = this.entries.flatMap((entry) => (entry.kind === 'glob' ? [entry.rule] : []));
    if (globs.length === 0) return undefined;
    const lines = [
      ...globs.map((rule) => Buffer.concat([Buffer.from('+'), rule])),
      ...[...this.exclusions, ...this.named.map(escapeGlob)].map((pattern) =>
        Buffer.concat([Buffer.from('-'), globRule(pattern)]),
      ),
    ];
    const rules = Buffer.concat(lines.flatMap((line) => [line, Buffer.from('\n')]));
    return { name: [...this.patterns, ...this.exclusions.map((e) => `!${e}`)].join(','), rules };
  }

  /** The concrete queue list: patterns in order, matches of each sorted bytewise (as Ruby sorts strings), exclusions removed, deduplicated. */
  expand(known: readonly string[]): string[] {
    if (!this.dynamic) return [...new Set(this.patterns)];
    const sorted = [...known].sort(bytewise);
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
}

function escapeGlob(name: string): string {
  return name.replace(/[*?[\\]/g, '\\$&');
}

/** Ruby's string order: by UTF-8 bytes, which differs from JavaScript's UTF-16 order above U+FFFF. */
export function bytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Ruby's `File.fnmatch?(pattern, name)` with no flags: `*` any run, `?` one character, `[...]` a class (`!`/`^`
 * negates, ranges), `\` escapes; braces are literal; a leading `.` is matched only by a `.` that starts the pattern
 * (not by a wildcard or a class).
 */
export function fnmatch(pattern: string, name: string): boolean {
  return compile(pattern).test(name);
}

const compiled = new Map<string, RegExp>();

function compile(pattern: string): RegExp {
  let regex = compiled.get(pattern);
  if (regex) return regex;
  let source = matchesLeadingDot(pattern) ? '' : '(?!\\.)';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') source += '[\\s\\S]*';
    else if (c === '?') source += '[\\s\\S]';
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
  // `u`: a wildcard matches a whole character, as Ruby's does, not half of a surrogate pair.
  regex = new RegExp(`^${source}$`, 'u');
  compiled.set(pattern, regex);
  return regex;
}

function escapeRegex(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
