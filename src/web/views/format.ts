import type { JsonValue } from '../../protocol/json.js';
import { compactJson, rawMember } from '../../protocol/raw-json.js';
import { type Html, html } from '../html.js';

/** 1,234,567 */
export function count(n: number | undefined): string {
  return n === undefined ? '–' : n.toLocaleString('en-US');
}

/** `45s`, `3m 20s`, `2h 5m`, `4d 3h`. */
export function duration(ms: number | undefined): string {
  if (ms === undefined) return '–';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return s % 60 === 0 ? `${s / 60}m` : `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** `2026-11-27 21:39:58` (UTC). */
export function utc(date: Date | undefined): string {
  if (!date || Number.isNaN(date.getTime())) return '–';
  return date.toISOString().replace('T', ' ').slice(0, 19);
}

/**
 * A time as `<time>`: absolute UTC in the title, "3m 20s ago" as text (kept current by the page's script, which
 * reads `datetime`).
 */
export function ago(date: Date | undefined, now: number): Html {
  if (!date || Number.isNaN(date.getTime())) return html`<span class="muted">–</span>`;
  return html`<time datetime="${date.toISOString()}" title="${utc(date)} UTC">${duration(
    Math.max(0, now - date.getTime()),
  )} ago</time>`;
}

/**
 * Job arguments as compact JSON text, cut at `max` characters (the full text is in the title). `stored` is their text
 * as stored, when known: shown instead, since decoding changes numbers (Ruby's `1.0` would show as `1`, and integers
 * beyond 2^53 rounded).
 */
export function argsText(args: readonly JsonValue[] | undefined, max = 120, stored?: string): Html {
  if (args === undefined) return html`<span class="muted">–</span>`;
  const text = stored ?? JSON.stringify(args);
  const short = text.length > max ? `${text.slice(0, max - 1)}…` : text;
  return html`<code class="args" title="${text.length > max ? text.slice(0, 2000) : undefined}">${short}</code>`;
}

/** Pretty JSON for detail views. */
export function prettyJson(value: unknown): Html {
  return html`<pre class="json">${JSON.stringify(value, null, 2)}</pre>`;
}

export function truncate(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** ActiveJob's Resque adapter wraps every job in one class; resque-web shows the job class inside, and so do we. */
const ACTIVE_JOB_WRAPPER = 'ActiveJob::QueueAdapters::ResqueAdapter::JobWrapper';

/** A job's class as people know it: the wrapped ActiveJob class (with the wrapper in the title), else the class. */
export function jobClass(className: string | undefined, args: readonly JsonValue[] | undefined): Html {
  const first = args?.[0];
  if (
    className === ACTIVE_JOB_WRAPPER &&
    first &&
    typeof first === 'object' &&
    !Array.isArray(first) &&
    typeof first['job_class'] === 'string'
  ) {
    return html`<code title="${className}">${first['job_class']}</code>`;
  }
  return html`<code>${className ?? '(unknown)'}</code>`;
}

/**
 * The stored text of a member inside JSON text that has already been decoded (`['payload', 'args']`), compacted,
 * or undefined when it cannot be found.
 */
export function storedMember(raw: string, path: readonly string[]): string | undefined {
  try {
    let start = 0;
    let end = raw.length;
    for (const key of path) {
      const member = rawMember(raw.slice(0, end), key, start);
      if (!member) return undefined;
      start = member.valueStart;
      end = member.valueEnd;
    }
    return compactJson(raw.slice(start, end));
  } catch {
    return undefined;
  }
}
